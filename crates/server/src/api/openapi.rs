//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of the API.
//!
//! Maintained by hand next to the route table; tests check that every route in
//! [`crate::routes::ROUTES`] is described here and nothing else is, and snapshot the document.

use axum::extract::State;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ErrorCode, Json};

/// `GET /api/v1/openapi.json`.
pub async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(build(
        &state.config.public_base_url,
        state.config.max_change_bytes,
    ))
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn json_body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn ok(status_description: &str, schema: &str) -> Value {
    json!({
        "description": status_description,
        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } }
    })
}

fn id_param(description: &str) -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "description": description, "schema": { "type": "string" } }])
}

/// Builds the document for an instance at `base_url`.
#[must_use]
pub fn build(base_url: &str, max_change_bytes: usize) -> Value {
    let mut doc = describe(base_url, max_change_bytes);
    add_body_errors(&mut doc);
    doc
}

/// Every operation that reads a JSON body can also answer 400 (not JSON), 413 (too large) and
/// 415 (not `application/json`); documented once here instead of in each operation.
fn add_body_errors(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
    {
        if operation.get("requestBody").is_none() {
            continue;
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (status, description) in [
            ("400", "The body is not valid JSON."),
            ("413", "The body is over the size limit."),
            ("415", "The body is not `application/json`."),
        ] {
            responses
                .entry(status)
                .or_insert_with(|| error_response(description));
        }
    }
}

fn describe(base_url: &str, max_change_bytes: usize) -> Value {
    let unauthenticated = error_response("Not logged in, or the token or session is invalid.");
    let forbidden =
        error_response("Authenticated but not allowed (role, conflict of interest, CSRF).");
    let not_found = error_response(
        "No such case, or the caller may not see it (the two are indistinguishable).",
    );
    let invalid = error_response("The input does not fit.");
    let conflict =
        error_response("The case's state does not allow this, or it changed concurrently.");
    let cookie_or_token = json!([{ "bearerToken": [] }, { "sessionCookie": [] }]);
    let optional_auth = json!([{}, { "bearerToken": [] }, { "sessionCookie": [] }]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "S-Express API",
            "version": "1",
            "description": format!(
                "Forward dodgy changes, get an automated first read and an expert's assessment. \
                 Errors are JSON `{{code, message}}` with a stable `code`. Cases are TLP-labelled: a case the \
                 caller may not see answers 404. Changes are limited to {max_change_bytes} bytes (413 above). \
                 State-changing requests authenticated by the session cookie must send the session's CSRF \
                 token in `X-CSRF-Token`."
            ),
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" }
        },
        "servers": [{ "url": base_url }],
        "paths": {
            "/api/v1/health": {
                "get": {
                    "operationId": "health", "summary": "Liveness", "tags": ["service"], "security": [{}],
                    "responses": { "200": ok("The server is up.", "Health") }
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi", "summary": "This document", "tags": ["service"], "security": [{}],
                    "responses": { "200": { "description": "The OpenAPI document.", "content": { "application/json": { "schema": { "type": "object" } } } } }
                }
            },
            "/api/v1/session": {
                "post": {
                    "operationId": "login", "summary": "Log in with handle and password", "tags": ["accounts"], "security": [{}],
                    "requestBody": json_body("LoginRequest"),
                    "responses": {
                        "201": {
                            "description": "Logged in; the session cookie is set.",
                            "headers": { "Set-Cookie": { "schema": { "type": "string" }, "description": "HttpOnly, SameSite=Lax session cookie (Secure over HTTPS)." } },
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LoginResponse" } } }
                        },
                        "401": error_response("Wrong handle or password."),
                        "422": invalid.clone(),
                        "429": error_response("Too many login attempts from this IP or for this account.")
                    }
                },
                "delete": {
                    "operationId": "logout", "summary": "Log out", "tags": ["accounts"], "security": [{ "sessionCookie": [] }],
                    "responses": { "204": { "description": "Logged out; the cookie is cleared." }, "401": unauthenticated.clone(), "403": forbidden.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/me": {
                "get": {
                    "operationId": "me", "summary": "Who am I", "tags": ["accounts"], "security": cookie_or_token.clone(),
                    "responses": { "200": ok("The caller.", "Me"), "401": unauthenticated.clone() }
                }
            },
            "/api/v1/me/notifications": {
                "get": {
                    "operationId": "getNotificationSettings", "summary": "Your notification settings (e-mail, events, outgoing webhook)", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "responses": { "200": ok("The settings; the webhook secret is never shown here.", "NotificationSettings"), "401": unauthenticated.clone() }
                },
                "put": {
                    "operationId": "putNotificationSettings", "summary": "Replace your notification settings; a new webhook secret is shown once", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "requestBody": json_body("PutNotificationSettings"),
                    "responses": { "200": ok("The saved settings, with `webhook_secret` when one was generated.", "NotificationSettings"), "401": unauthenticated.clone(), "403": forbidden.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/me/mail-intake": {
                "get": {
                    "operationId": "getMailIntake", "summary": "Your e-mail intake address: whether you have one, and the sender it accepts", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "responses": { "200": ok("The intake settings; the address itself is never shown here.", "MailIntake"), "401": unauthenticated.clone() }
                },
                "post": {
                    "operationId": "createMailIntake", "summary": "Make a new e-mail intake address (shown once; the old one stops working)", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "responses": { "201": ok("The intake settings with `address`.", "MailIntake"), "401": unauthenticated.clone(), "403": forbidden.clone(), "409": error_response("This instance has no mail intake.") }
                },
                "delete": {
                    "operationId": "deleteMailIntake", "summary": "Remove your e-mail intake address", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "responses": { "204": { "description": "Removed." }, "401": unauthenticated.clone(), "403": forbidden.clone(), "404": error_response("You have no intake address.") }
                }
            },
            "/api/v1/users": {
                "post": {
                    "operationId": "register", "summary": "Register as a maintainer", "tags": ["accounts"], "security": [{}],
                    "requestBody": json_body("Register"),
                    "responses": { "201": ok("The new account.", "User"), "409": error_response("The handle is taken."), "422": invalid.clone(), "429": error_response("Too many registrations from this IP.") }
                }
            },
            "/api/v1/invitations": {
                "post": {
                    "operationId": "invite", "summary": "Invite an expert (coordinators) or any role (admins); the token is shown once", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "requestBody": json_body("Invite"),
                    "responses": { "201": ok("The invitation.", "CreatedInvitation"), "401": unauthenticated.clone(), "403": forbidden.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/invitations/accept": {
                "post": {
                    "operationId": "acceptInvitation", "summary": "Create an account from an invitation", "tags": ["accounts"], "security": [{}],
                    "requestBody": json_body("AcceptInvitation"),
                    "responses": { "201": ok("The new account.", "User"), "404": error_response("The invitation is unknown, used or expired."), "409": error_response("The handle is taken."), "422": invalid.clone(), "429": error_response("Too many attempts from this IP.") }
                }
            },
            "/api/v1/tokens": {
                "post": {
                    "operationId": "createToken", "summary": "Create a personal API token (shown once)", "tags": ["accounts"],
                    "security": [{ "sessionCookie": [] }],
                    "requestBody": json_body("CreateToken"),
                    "responses": { "201": ok("The token, with its secret.", "CreatedToken"), "401": unauthenticated.clone(), "403": forbidden.clone(), "422": invalid.clone() }
                },
                "get": {
                    "operationId": "listTokens", "summary": "List my API tokens (never their secrets)", "tags": ["accounts"],
                    "security": cookie_or_token.clone(),
                    "responses": { "200": { "description": "Tokens.", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Token" } } } } }, "401": unauthenticated.clone() }
                }
            },
            "/api/v1/tokens/{id}": {
                "delete": {
                    "operationId": "revokeToken", "summary": "Revoke one of my API tokens", "tags": ["accounts"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The token's id from the token list."),
                    "responses": { "204": { "description": "Revoked." }, "401": unauthenticated.clone(), "403": forbidden.clone(), "404": error_response("No such live token of yours.") }
                }
            },
            "/api/v1/cases": {
                "get": {
                    "operationId": "listPublished", "summary": "Published cases, newest first (public)", "tags": ["cases"], "security": [{}],
                    "parameters": [
                        { "name": "verdict", "in": "query", "required": false, "schema": { "type": "string", "enum": ["benign", "inconclusive", "suspicious", "malicious"] } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } },
                        { "name": "before", "in": "query", "required": false, "description": "The `next` cursor of the previous page (opaque).", "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]*$" } }
                    ],
                    "responses": { "200": ok("A page of published cases.", "PublishedPage"), "422": invalid.clone() }
                },
                "post": {
                    "operationId": "createCase", "summary": "Forward a change (diff, patch or mbox as JSON, or a git bundle as a form)", "tags": ["cases"],
                    "description": "JSON: the change text in `diff`. Form (`multipart/form-data`): a `metadata` field holding the same JSON object without `diff`, whose `revision` names the range inside the bundle (`main..feature`, or one commit), and a `bundle` field holding a self-contained bundle (`git bundle create change.bundle main feature`); thin bundles (made from `main..feature`) are refused with `invalid_change`. A single commit on its base is stored as `git format-patch` output, a longer range as the diff of the two trees.",
                    "security": cookie_or_token.clone(),
                    "requestBody": {
                        "required": true,
                        "content": {
                            "application/json": { "schema": { "$ref": "#/components/schemas/CreateCase" } },
                            "multipart/form-data": {
                                "schema": { "$ref": "#/components/schemas/CreateCaseFromBundle" },
                                "encoding": { "metadata": { "contentType": "application/json" }, "bundle": { "contentType": "application/x-git-bundle, application/octet-stream" } }
                            }
                        }
                    },
                    "responses": {
                        "201": {
                            "description": "Received and durably stored; the analyzer runs next.",
                            "headers": { "Location": { "schema": { "type": "string" } } },
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CreatedCase" } } }
                        },
                        "401": unauthenticated.clone(), "403": forbidden.clone(), "413": error_response("The change is over the maximum change size."),
                        "415": error_response("The body is neither JSON nor a multipart form."), "422": error_response("Invalid input, or the change is not a readable diff/patch/mbox or self-contained bundle (`invalid_change`)."),
                        "429": error_response("Too many submissions from this IP or account.")
                    }
                }
            },
            "/api/v1/cases/{id}": {
                "get": {
                    "operationId": "getCase", "summary": "A case with its report, assessments and timeline", "tags": ["cases"],
                    "security": optional_auth, "parameters": id_param("The case id."),
                    "responses": { "200": ok("The case as the caller may see it.", "Case"), "401": unauthenticated.clone(), "404": not_found.clone() }
                }
            },
            "/api/v1/cases/{id}/change": {
                "get": {
                    "operationId": "getChange", "summary": "The change text exactly as submitted", "tags": ["cases"],
                    "security": [{}, { "bearerToken": [] }, { "sessionCookie": [] }], "parameters": id_param("The case id."),
                    "responses": { "200": ok("The change text (attacker-controlled: escape before display).", "ChangeText"), "401": unauthenticated.clone(), "404": not_found.clone() }
                }
            },
            "/api/v1/cases/{id}/public": {
                "get": {
                    "operationId": "getPublicCase", "summary": "What the public may know of a case: while sealed, that it exists, its subgroups and its publication date; once published, the published case", "tags": ["cases"],
                    "security": [{}], "parameters": id_param("The case id."),
                    "responses": { "200": ok("The public view (the same for every caller).", "PublicCase"), "404": error_response("No such case."), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/claim": {
                "post": {
                    "operationId": "claimCase", "summary": "Claim a case (eligible experts)", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "responses": { "200": ok("The claimed case.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone() }
                }
            },
            "/api/v1/cases/{id}/unclaim": {
                "post": {
                    "operationId": "unclaimCase", "summary": "Release your claim before assessing (the case returns to the queue when no claim remains)", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "responses": { "200": ok("The case after the release.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone() }
                }
            },
            "/api/v1/cases/{id}/assessments": {
                "post": {
                    "operationId": "assessCase", "summary": "Submit an assessment of the current revision", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("AssessmentBody"),
                    "responses": { "201": ok("The assessed case.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/decision": {
                "post": {
                    "operationId": "decideCase", "summary": "Record the maintainer's decision", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("DecideRequest"),
                    "responses": { "200": ok("The decided case.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/log": {
                "get": {
                    "operationId": "logEntries", "summary": "Transparency log entries (sealed ones as commitments)", "tags": ["log"], "security": [{}],
                    "parameters": [
                        { "name": "from", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 } }
                    ],
                    "responses": { "200": ok("A page of the log.", "LogPage"), "422": invalid.clone() }
                }
            },
            "/api/v1/log/checkpoint": {
                "get": {
                    "operationId": "logCheckpoint", "summary": "The newest signed checkpoint", "tags": ["log"], "security": [{}],
                    "responses": { "200": ok("The checkpoint and the instance's public key.", "CheckpointView"), "404": error_response("No checkpoint signed yet.") }
                }
            },
            "/api/v1/log/checkpoints": {
                "get": {
                    "operationId": "logCheckpoints", "summary": "Every signed checkpoint, oldest first", "tags": ["log"], "security": [{}],
                    "parameters": [
                        { "name": "from", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "default": 0 } },
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 1000 } }
                    ],
                    "responses": { "200": ok("A page of checkpoints.", "CheckpointPage"), "422": invalid.clone() }
                }
            },
            "/api/v1/log/export": {
                "get": {
                    "operationId": "logExport", "summary": "The whole log and its checkpoints, for outside verification (format s-express-translog/v1, see docs/transparency.md)", "tags": ["log"], "security": [{}],
                    "responses": { "200": ok("The export.", "LogExport") }
                }
            },
            "/api/v1/cases/{id}/second-reviews": {
                "post": {
                    "operationId": "requestSecondReview", "summary": "Ask for a second review of a submitted assessment", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("RequestSecondReview"),
                    "responses": { "201": ok("The case with the request.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/second-reviews/{review_id}": {
                "post": {
                    "operationId": "submitSecondReview", "summary": "Give a requested second review (an independent expert)", "tags": ["cases"],
                    "security": cookie_or_token.clone(),
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "description": "The case id.", "schema": { "type": "string" } },
                        { "name": "review_id", "in": "path", "required": true, "description": "The second review's id.", "schema": { "type": "string" } }
                    ],
                    "requestBody": json_body("SubmitSecondReview"),
                    "responses": { "200": ok("The case with the review.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/embargo": {
                "post": {
                    "operationId": "proposeEmbargo", "summary": "Propose an embargo end date (shortest proposal wins)", "tags": ["disclosure"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("ProposeEmbargo"),
                    "responses": { "201": ok("The case with the proposal.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/embargo/approve": {
                "post": {
                    "operationId": "approveEmbargo", "summary": "Approve the winning embargo proposal (a coordinator other than the proposer)", "tags": ["disclosure"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "responses": { "200": ok("The case with the embargo.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone() }
                }
            },
            "/api/v1/cases/{id}/grace-extensions": {
                "post": {
                    "operationId": "requestGraceExtension", "summary": "Ask to extend the maximum grace period (public; two coordinators must approve)", "tags": ["disclosure"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("RequestGraceExtension"),
                    "responses": { "201": ok("The case with the request.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/cases/{id}/grace-extensions/{extension_id}/approve": {
                "post": {
                    "operationId": "approveGraceExtension", "summary": "Approve a grace extension (the second coordinator grants it)", "tags": ["disclosure"],
                    "security": cookie_or_token.clone(),
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "description": "The case id.", "schema": { "type": "string" } },
                        { "name": "extension_id", "in": "path", "required": true, "description": "The extension's id.", "schema": { "type": "string" } }
                    ],
                    "responses": { "200": ok("The case.", "Case"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "409": conflict.clone() }
                }
            },
            "/api/v1/cases/{id}/comments": {
                "get": {
                    "operationId": "listComments", "summary": "Comments on a case the caller may see", "tags": ["cases"],
                    "security": [{}, { "bearerToken": [] }, { "sessionCookie": [] }], "parameters": id_param("The case id."),
                    "responses": { "200": { "description": "Comments, oldest first.", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Comment" } } } } }, "401": unauthenticated.clone(), "404": not_found.clone() }
                },
                "post": {
                    "operationId": "addComment", "summary": "Comment with a TLP label (participants)", "tags": ["cases"],
                    "security": cookie_or_token.clone(), "parameters": id_param("The case id."),
                    "requestBody": json_body("NewComment"),
                    "responses": { "201": ok("The comment.", "Comment"), "401": unauthenticated.clone(), "403": forbidden.clone(), "404": not_found.clone(), "422": invalid.clone() }
                }
            },
            "/api/v1/queue": {
                "get": {
                    "operationId": "queue", "summary": "My expert queue: routed to my subgroups, conflicts excluded, earliest SLA deadline first", "tags": ["cases"],
                    "security": cookie_or_token,
                    "parameters": [
                        { "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200, "default": 50 } },
                        { "name": "after", "in": "query", "required": false, "description": "The `next` cursor of the previous page (opaque).", "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]*$" } }
                    ],
                    "responses": { "200": ok("A page of the queue.", "QueuePage"), "401": unauthenticated, "403": forbidden, "422": invalid }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearerToken": { "type": "http", "scheme": "bearer", "description": "A personal API token (`sxp_…`)." },
                "sessionCookie": { "type": "apiKey", "in": "cookie", "name": "sx_session", "description": "Named `__Host-sx_session` over HTTPS." }
            },
            "schemas": schemas()
        }
    })
}

fn schemas() -> Value {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let time = json!({ "type": "string", "format": "date-time" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    json!({
        "Error": {
            "type": "object", "required": ["code", "message"],
            "properties": { "code": { "type": "string", "enum": codes }, "message": { "type": "string" } }
        },
        "Health": { "type": "object", "required": ["status", "version"], "properties": { "status": { "const": "ok" }, "version": { "type": "string" } } },
        "User": {
            "type": "object", "required": ["id", "handle", "display_name", "roles"],
            "properties": {
                "id": uuid, "handle": { "type": "string" }, "display_name": { "type": "string" },
                "roles": { "type": "array", "items": { "type": "string", "enum": ["maintainer", "expert", "coordinator", "admin"] } }
            }
        },
        "LoginRequest": {
            "type": "object", "required": ["handle", "password"], "additionalProperties": false,
            "properties": { "handle": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }, "password": { "type": "string", "maxLength": 1024 } }
        },
        "LoginResponse": {
            "type": "object", "required": ["user", "csrf_token", "expires_at"],
            "properties": { "user": { "$ref": "#/components/schemas/User" }, "csrf_token": { "type": "string" }, "expires_at": time }
        },
        "Me": {
            "type": "object", "required": ["user", "authenticated_by"],
            "properties": {
                "user": { "$ref": "#/components/schemas/User" },
                "authenticated_by": { "type": "string", "enum": ["session", "token"] },
                "csrf_token": { "type": ["string", "null"] }
            }
        },
        "NotificationSettings": {
            "type": "object", "required": ["events", "available_events", "email_delivery_configured"],
            "properties": {
                "email": { "type": ["string", "null"] },
                "events": { "type": "array", "items": { "type": "string" } },
                "available_events": { "type": "array", "items": { "type": "string", "enum": ["report-attached", "queued", "assessed", "second-review", "decided", "published"] } },
                "webhook": {
                    "type": ["object", "null"], "required": ["url", "secret_set"],
                    "properties": { "url": { "type": "string" }, "secret_set": { "type": "boolean" } }
                },
                "email_delivery_configured": { "type": "boolean" },
                "webhook_secret": { "type": "string", "description": "Only in the answer that generated it: HMAC-SHA256 key for X-S-Express-Signature." }
            }
        },
        "PutNotificationSettings": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "email": { "type": ["string", "null"], "maxLength": 254 },
                "events": { "type": ["array", "null"], "items": { "type": "string", "enum": ["report-attached", "queued", "assessed", "second-review", "decided", "published"] } },
                "webhook_url": { "type": ["string", "null"], "maxLength": 2048 },
                "rotate_webhook_secret": { "type": "boolean" }
            }
        },
        "MailIntake": {
            "type": "object", "required": ["available", "address_set", "ready"],
            "properties": {
                "available": { "type": "boolean" },
                "address_form": { "type": ["string", "null"], "description": "e.g. submit+TOKEN@intake.example.org" },
                "address_set": { "type": "boolean" },
                "address": { "type": "string", "description": "Only in the answer of the POST that made it." },
                "created_at": { "type": ["string", "null"], "format": "date-time" },
                "last_used_at": { "type": ["string", "null"], "format": "date-time" },
                "sender": { "type": ["string", "null"], "description": "The only From: address accepted: your notification address." },
                "ready": { "type": "boolean" }
            }
        },
        "CreateToken": {
            "type": "object", "required": ["name"], "additionalProperties": false,
            "properties": { "name": { "type": "string", "minLength": 1, "maxLength": 100 }, "expires_in_days": { "type": ["integer", "null"], "minimum": 1, "maximum": 366 } }
        },
        "Token": {
            "type": "object", "required": ["id", "name", "created_at"],
            "properties": {
                "id": { "type": "string" }, "name": { "type": "string" }, "created_at": time,
                "expires_at": { "type": ["string", "null"], "format": "date-time" },
                "last_used_at": { "type": ["string", "null"], "format": "date-time" },
                "revoked_at": { "type": ["string", "null"], "format": "date-time" }
            }
        },
        "CreatedToken": {
            "allOf": [{ "$ref": "#/components/schemas/Token" }, { "type": "object", "required": ["token_secret"], "properties": { "token_secret": { "type": "string" } } }]
        },
        "CreateCase": {
            "type": "object", "required": ["project", "diff", "suspicion"], "additionalProperties": false,
            "properties": {
                "project": {
                    "type": "object", "required": ["forge", "owner", "name"], "additionalProperties": false,
                    "properties": {
                        "forge": { "type": "string", "enum": ["github", "gitlab", "forgejo", "gitea", "email"] },
                        "host": { "type": ["string", "null"], "pattern": "^[A-Za-z0-9.:-]{1,253}$" }, "owner": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$" }, "name": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$" }
                    }
                },
                "diff": { "type": "string", "minLength": 1, "description": "Unified diff, git format-patch output or mbox (at most the maximum change size); must parse as a change." },
                "concern": { "type": "string", "maxLength": 20000 },
                "suspicion": { "type": "integer", "minimum": 1, "maximum": 5 },
                "tags": { "type": "array", "items": { "type": "string" }, "maxItems": 64 },
                "pull_request_url": { "type": ["string", "null"], "description": "https:// URL, recorded and never fetched." },
                "author": { "type": ["string", "null"] }, "title": { "type": ["string", "null"] },
                "revision": { "type": ["string", "null"], "description": "base..head" }
            }
        },
        "CreateCaseFromBundle": {
            "type": "object", "required": ["metadata", "bundle"], "additionalProperties": false,
            "properties": {
                "metadata": { "type": "object", "description": "The fields of `CreateCase` except `diff`; `revision` (required here) is the range inside the bundle." },
                "bundle": { "type": "string", "format": "binary", "description": "A self-contained git bundle (v2 or v3, SHA-1), at most twice the maximum change size." }
            }
        },
        "CreatedCase": {
            "type": "object", "required": ["id", "status", "url"],
            "properties": { "id": uuid, "status": { "type": "string" }, "url": { "type": "string" } }
        },
        "Case": {
            "type": "object",
            "required": ["id", "project", "status", "tlp", "received_at", "revision", "concern", "subgroups", "assessments", "sla", "timeline"],
            "properties": {
                "id": uuid,
                "project": { "type": "object" },
                "status": { "type": "string", "enum": ["received", "triaged", "claimed", "assessed", "decided", "published", "closed"] },
                "tlp": { "type": "string", "enum": ["clear", "green", "amber", "amber-strict", "red"] },
                "received_at": time, "revision": { "type": "string" }, "concern": { "type": "object" },
                "report": { "type": ["object", "null"], "description": "The automated report; `full` is the analyzer's JSON report." },
                "subgroups": { "type": "array" }, "assessments": { "type": "array" }, "second_reviews": { "type": "array" },
                "effective_verdict": { "type": ["object", "null"] }, "decision": { "type": ["object", "null"] },
                "sla": { "type": "object" }, "participants": { "type": ["array", "null"] }, "timeline": { "type": "array" }
            }
        },
        "PublicCase": {
            "type": "object", "required": ["state", "id", "subgroups", "subgroup_names", "grace_extensions"],
            "properties": {
                "state": { "type": "string", "enum": ["sealed", "published"] },
                "id": uuid,
                "subgroups": { "type": "array", "items": uuid },
                "subgroup_names": { "type": "array", "items": { "type": "object", "required": ["id", "slug", "name"], "properties": { "id": uuid, "slug": { "type": "string" }, "name": { "type": "string" } } } },
                "publishes_at": { "type": ["string", "null"], "format": "date-time", "description": "Sealed: when it publishes (null: never, closed as invalid)." },
                "published_at": { "type": "string", "format": "date-time", "description": "Published only." },
                "grace_extensions": { "type": "array", "description": "Public records of requested and granted extensions of the grace period." }
            },
            "description": "A published case also carries its source, revision, concern, report, triage, public assessments and second reviews, effective verdict, decision and embargo."
        },
        "AssessmentBody": {
            "type": "object",
            "required": ["verdict", "confidence", "summary", "rationale", "recommended_actions", "references", "time_spent_minutes", "thoroughness", "understanding"],
            "properties": {
                "verdict": { "type": "string", "enum": ["benign", "inconclusive", "suspicious", "malicious"] },
                "confidence": { "type": "string", "enum": ["low", "medium", "high"] },
                "summary": { "type": "string", "maxLength": 2000 }, "rationale": { "type": "string" },
                "recommended_actions": { "type": "array", "items": { "type": "string" } },
                "references": { "type": "array", "items": { "type": "string" } },
                "time_spent_minutes": { "type": "integer", "minimum": 0 },
                "thoroughness": { "type": "string", "enum": ["none", "low", "medium", "high"] },
                "understanding": { "type": "string", "enum": ["none", "low", "medium", "high"] }
            }
        },
        "DecideRequest": {
            "type": "object", "required": ["outcome"], "additionalProperties": false,
            "properties": {
                "outcome": { "type": "string", "enum": ["merged", "rejected", "changes-requested", "reported-to-forge", "other"] },
                "note": { "type": "string" }
            }
        },
        "PublishedPage": {
            "type": "object", "required": ["items"],
            "properties": {
                "items": { "type": "array", "items": {
                    "type": "object", "required": ["id", "project"],
                    "properties": {
                        "id": uuid, "project": { "type": "object" },
                        "published_at": { "type": ["string", "null"], "format": "date-time" },
                        "effective_verdict": { "type": ["object", "null"] },
                        "decision": { "type": ["string", "null"] },
                        "risk_band": { "type": ["string", "null"] }
                    }
                } },
                "next": { "type": ["string", "null"] }
            }
        },
        "LogPage": {
            "type": "object", "required": ["public_key", "size", "entries"],
            "properties": {
                "public_key": { "type": "string", "description": "Ed25519, hex." },
                "size": { "type": "integer" },
                "entries": { "type": "array", "items": { "type": "object" } },
                "next_from": { "type": ["integer", "null"] }
            }
        },
        "CheckpointPage": {
            "type": "object", "required": ["public_key", "total", "checkpoints"],
            "properties": {
                "public_key": { "type": "string", "description": "Ed25519, hex." },
                "total": { "type": "integer" },
                "checkpoints": { "type": "array", "items": { "type": "object" } },
                "next_from": { "type": ["integer", "null"] }
            }
        },
        "LogExport": {
            "type": "object", "required": ["format", "public_key", "entries", "checkpoints"],
            "properties": {
                "format": { "const": "s-express-translog/v1" },
                "public_key": { "type": "string", "description": "Ed25519, hex (informational: verify with a key obtained independently)." },
                "entries": { "type": "array", "items": { "type": "object" } },
                "checkpoints": { "type": "array", "items": { "type": "object" } }
            }
        },
        "CheckpointView": {
            "type": "object", "required": ["public_key", "checkpoint"],
            "properties": { "public_key": { "type": "string" }, "checkpoint": { "type": "object" } }
        },
        "RequestSecondReview": {
            "type": "object", "required": ["assessment_id", "reason"], "additionalProperties": false,
            "properties": { "assessment_id": uuid, "reason": { "type": "string", "minLength": 1 } }
        },
        "SubmitSecondReview": {
            "type": "object", "required": ["verdict"], "additionalProperties": false,
            "properties": { "verdict": { "type": "string", "enum": ["benign", "inconclusive", "suspicious", "malicious"] }, "note": { "type": "string" } }
        },
        "NewComment": {
            "type": "object", "required": ["body"], "additionalProperties": false,
            "properties": {
                "body": { "type": "string", "minLength": 1, "maxLength": 50000 },
                "tlp": { "type": ["string", "null"], "enum": ["clear", "green", "amber", "amber-strict", "red", null] },
                "recipients": { "type": "array", "items": uuid },
                "in_reply_to": { "type": ["string", "null"], "format": "uuid" }
            }
        },
        "Comment": {
            "type": "object", "required": ["id", "case_id", "author", "body", "tlp", "recipients", "created_at"],
            "properties": {
                "id": uuid, "case_id": uuid, "author": uuid, "in_reply_to": { "type": ["string", "null"], "format": "uuid" },
                "body": { "type": "string" }, "tlp": { "type": "string" }, "recipients": { "type": "array", "items": uuid }, "created_at": time
            }
        },
        "ChangeText": {
            "type": "object", "required": ["patch_ref", "diff"],
            "properties": { "patch_ref": { "type": "string" }, "diff": { "type": "string" } }
        },
        "ProposeEmbargo": {
            "type": "object", "required": ["until", "reason"], "additionalProperties": false,
            "properties": { "until": time, "reason": { "type": "string", "minLength": 1 } }
        },
        "RequestGraceExtension": {
            "type": "object", "required": ["extra_days", "reason"], "additionalProperties": false,
            "properties": { "extra_days": { "type": "integer", "minimum": 1 }, "reason": { "type": "string", "minLength": 1 } }
        },
        "Register": {
            "type": "object", "required": ["handle", "password"], "additionalProperties": false,
            "properties": { "handle": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }, "password": { "type": "string", "minLength": 12, "maxLength": 1024 }, "display_name": { "type": ["string", "null"], "minLength": 1, "maxLength": 100 } }
        },
        "Invite": {
            "type": "object", "required": ["email"], "additionalProperties": false,
            "properties": {
                "email": { "type": "string" },
                "roles": { "type": "array", "items": { "type": "string", "enum": ["maintainer", "expert", "coordinator", "admin"] } },
                "subgroup": { "type": ["string", "null"], "description": "Subgroup slug." }
            }
        },
        "CreatedInvitation": {
            "type": "object", "required": ["invitation_token", "roles", "expires_at"],
            "properties": { "invitation_token": { "type": "string" }, "roles": { "type": "array", "items": { "type": "string" } }, "subgroup_id": { "type": ["string", "null"] }, "expires_at": time }
        },
        "AcceptInvitation": {
            "type": "object", "required": ["token", "handle", "password"], "additionalProperties": false,
            "properties": { "token": { "type": "string" }, "handle": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }, "password": { "type": "string", "minLength": 12, "maxLength": 1024 }, "display_name": { "type": ["string", "null"], "minLength": 1, "maxLength": 100 } }
        },
        "QueuePage": {
            "type": "object", "required": ["items"],
            "properties": {
                "items": { "type": "array", "items": {
                    "type": "object", "required": ["case_id", "project", "status", "reason", "tlp", "received_at", "sla_due", "subgroups", "suspicion"],
                    "properties": {
                        "case_id": uuid, "title": { "type": ["string", "null"], "description": "The change's title; null when it had none (a plain diff)." }, "project": { "type": "object" }, "status": { "type": "string" },
                        "reason": { "type": "string", "enum": ["your-claim", "second-review", "unclaimed"], "description": "Why the case is in your queue." },
                        "tlp": { "type": "string" },
                        "received_at": time, "sla_due": time,
                        "risk_band": { "type": ["string", "null"], "enum": ["low", "review", "high", null] },
                        "subgroups": { "type": "array", "items": uuid }, "suspicion": { "type": "integer" }
                    }
                } },
                "next": { "type": ["string", "null"] }
            }
        }
    })
}
