//! `behaviour-chain`: a source of sensitive data, a transform and a sink in one file — read
//! secrets → encode → send, or fetch/decode → execute. Single calls are everywhere in benign
//! code; their combination in one hunk or file is where supply-chain payloads show
//! (Codecov uploader, Solana web3.js, event-stream, rustdecimal, Shai-Hulud).

use crate::detector::{Detector, DetectorMeta, FileCtx, FileScope, LinePattern, Role, RoleHit};
use crate::finding::{Confidence, Findings, Location, Severity, Vector};

#[derive(Debug)]
pub struct BehaviourChain;

static META: DetectorMeta = DetectorMeta::new(
    "behaviour-chain",
    "Sensitive data flows to the network, or decoded data is executed",
    Severity::High,
    Confidence::Medium,
    &[Vector::Exfiltration, Vector::Payload],
    &[],
    "Within one file the change reads something sensitive or decodes hidden data and then sends \
     it over the network or executes it. Each step alone is common; together they are the shape \
     of credential stealers and droppers.",
);

const NOT_DOCS: &[FileScope] = &[FileScope::Source, FileScope::Test, FileScope::ExecutionPath];

macro_rules! src {
    ($lit:expr, $kind:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .role(Role::Source, $kind)
    };
    ($lit:expr, $kind:expr, $re:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .regex($re)
            .role(Role::Source, $kind)
    };
}
macro_rules! xf {
    ($lit:expr, $kind:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .role(Role::Transform, $kind)
    };
    ($lit:expr, $kind:expr, $re:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .regex($re)
            .role(Role::Transform, $kind)
    };
}
macro_rules! net {
    ($lit:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .role(Role::NetworkSink, "network")
    };
    ($lit:expr, $re:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .regex($re)
            .role(Role::NetworkSink, "network")
    };
}
macro_rules! exec {
    ($lit:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .role(Role::ExecSink, "exec")
    };
    ($lit:expr, $re:expr) => {
        LinePattern::lit($lit)
            .files(NOT_DOCS)
            .regex($re)
            .role(Role::ExecSink, "exec")
    };
}

/// The whole environment, taken at once (`process.env)`, `dict(os.environ)`): nothing
/// legitimate needs to send all of it anywhere.
const ENV_DUMP: &str = r"(?:process\.env|os\.environ)\s*(?:\)|\.copy\(\)|$)";

/// A variable whose name says token/secret/key/password. `process.env.NODE_ENV` is not a
/// source; a named token is a weak one (apps send their API token to their API all the time).
const SECRET_ENV: &str = r"(?i)(?:process\.env|os\.environ|os\.getenv|getenv|env::var|System\.getenv)\s*[\[.(]\s*['\x22]?[A-Z0-9_]*(?:TOKEN|SECRET|PASS|PASSWORD|API_?KEY|PRIVATE|CREDENTIAL|AUTH|NPM_|AWS_|GH_|GITHUB_)[A-Z0-9_]*";

static PATTERNS: &[LinePattern] = &[
    // Sources.
    src!("process.env", "env-dump", ENV_DUMP),
    src!("os.environ", "env-dump", ENV_DUMP),
    src!("printenv", "env-dump"),
    src!("Object.entries(process.env", "env-dump"),
    src!("JSON.stringify(process.env", "env-dump"),
    src!("dict(os.environ", "env-dump"),
    src!("process.env", "env-secret", SECRET_ENV),
    src!("os.environ", "env-secret", SECRET_ENV),
    src!("getenv(", "env-secret", SECRET_ENV),
    src!("env::var", "env-secret", SECRET_ENV),
    src!("System.getenv", "env-secret", SECRET_ENV),
    src!(".ssh/id_", "credentials"),
    src!(".aws/credentials", "credentials"),
    src!(".git-credentials", "credentials"),
    src!(".docker/config.json", "credentials"),
    src!(".kube/config", "credentials"),
    src!(
        ".npmrc",
        "credentials",
        r"(?i)(read|open|cat|fs\.|load)[^\n]*\.npmrc"
    ),
    src!(
        ".pypirc",
        "credentials",
        r"(?i)(read|open|cat|fs\.|load)[^\n]*\.pypirc"
    ),
    src!(
        "secretKey",
        "credentials",
        r"(?i)(?:secretKey|privateKey)\b"
    ),
    src!(
        "privateKey",
        "credentials",
        r"(?i)(?:secretKey|privateKey)\b"
    ),
    src!("wallet.dat", "wallet"),
    src!(
        "keystore",
        "wallet",
        r"(?i)ethereum[/\\]keystore|keystore[/\\]utc--"
    ),
    src!("solana/id.json", "wallet"),
    src!("git remote -v", "system-info"),
    src!("$_SERVER['HTTP_", "request-input"),
    src!("$_SERVER[\"HTTP_", "request-input"),
    // Transforms.
    xf!("atob(", "decode"),
    xf!(
        "Buffer.from(",
        "decode",
        r#"Buffer\.from\([^)]*,\s*['"](?:base64|hex)['"]"#
    ),
    xf!("b64decode(", "decode"),
    xf!("base64 -d", "decode"),
    xf!("base64 --decode", "decode"),
    xf!("base64_decode(", "decode"),
    xf!("fromCharCode", "decode"),
    xf!("unhexlify(", "decode"),
    xf!("bytes.fromhex(", "decode"),
    xf!("codecs.decode(", "decode"),
    xf!("createDecipher", "decrypt"),
    xf!("zlib.decompress(", "decompress"),
    xf!("gzinflate(", "decompress"),
    xf!("marshal.loads(", "decode"),
    xf!("xxd -r", "decode"),
    xf!("btoa(", "serialize"),
    xf!("b64encode(", "serialize"),
    xf!("base64_encode(", "serialize"),
    xf!("toString('base64')", "serialize"),
    xf!("toString(\"base64\")", "serialize"),
    // Network sinks.
    net!("fetch(", r"(?:^|[^.\w])fetch\(|window\.fetch\("),
    net!("XMLHttpRequest"),
    net!("axios.post("),
    net!("http.request("),
    net!("https.request("),
    net!("https.get("),
    net!("http.get("),
    net!("requests.post("),
    net!("requests.get("),
    net!("urlopen("),
    net!("urllib.request"),
    net!("socket.connect("),
    net!("net.connect("),
    net!("new WebSocket("),
    net!("TcpStream::connect"),
    net!("reqwest::"),
    net!(
        "curl ",
        r"\bcurl\s+[^|]*(?:-d|--data|-F|-T|--upload|https?://)"
    ),
    net!("wget ", r"\bwget\s"),
    net!("Invoke-WebRequest"),
    net!("sendBeacon("),
    net!("file_get_contents('http"),
    // Exec sinks.
    exec!("eval(", r"(?:^|[^.\w])eval\s*\("),
    exec!(
        "exec(",
        r"(?:^|[^.\w])exec\s*\(|child_process\.exec\(|os\.exec[lv]p?e?\("
    ),
    exec!("new Function("),
    exec!("child_process"),
    exec!("execSync("),
    exec!("spawnSync("),
    exec!("subprocess."),
    exec!("os.system("),
    exec!("os.popen("),
    exec!("Command::new("),
    exec!("| sh"),
    exec!("| bash"),
    exec!("|sh"),
    exec!("|bash"),
    exec!("bash -c"),
    exec!("sh -c"),
    exec!("Runtime.getRuntime().exec"),
    exec!("shell_exec("),
    exec!("passthru("),
    exec!("vm.runIn"),
];

impl Detector for BehaviourChain {
    fn meta(&self) -> &DetectorMeta {
        &META
    }

    fn line_patterns(&self) -> &[LinePattern] {
        PATTERNS
    }

    fn check_file(&self, file: &FileCtx<'_>, out: &mut Findings) {
        // Docs and test data (snapshots, vectors: no interpreter runs them) hold such lines as
        // text; payloads hidden in test data are the binary and build-pipeline detectors' job.
        if file.roles.is_empty() || file.class.docs || file.class.is_test_data() {
            return;
        }
        let path = file.path();
        let first = |pred: &dyn Fn(&RoleHit) -> bool| file.roles.iter().find(|r| pred(r));
        let near = |a: &RoleHit, b: &RoleHit| a.hunk == b.hunk || a.line.abs_diff(b.line) <= 40;

        // Secret source → (transform) → network.
        for sink in file.roles.iter().filter(|r| r.role == Role::NetworkSink) {
            let Some(source) = first(&|r: &RoleHit| r.role == Role::Source && near(r, sink)) else {
                continue;
            };
            let transform = first(&|r: &RoleHit| r.role == Role::Transform && near(r, sink));
            // A named token sent to an API is everyday code; the whole environment, key or
            // wallet files, or anything encoded on the way out is not.
            let weak_source = matches!(source.kind, "env-secret" | "request-input");
            let (sev, conf) = match (transform.is_some(), weak_source, source.hunk == sink.hunk) {
                (true, _, _) => (Severity::Critical, Confidence::High),
                (false, true, _) => (Severity::Medium, Confidence::Low),
                (false, false, true) => (Severity::High, Confidence::High),
                (false, false, false) => (Severity::High, Confidence::Medium),
            };
            // As for decode→execute below: test files hold such flows as data (a test of
            // this very detector, say); still reported, never with high confidence.
            let conf = if file.class.test {
                conf.min(Confidence::Medium)
            } else {
                conf
            };
            let mut b = META
                .finding(Location::line(path, sink.line))
                .title(format!("Sensitive data ({}) sent over the network", source.kind))
                .severity(sev)
                .confidence(conf)
                .tag(Vector::Exfiltration)
                .evidence(format!("{} … {}", source.text, sink.text))
                .explanation(
                    "This file reads sensitive data (environment secrets, credential or wallet files, \
                     host details) and sends data over the network nearby. That is the shape of the \
                     Codecov uploader and Solana web3.js compromises. Check where the request goes and \
                     what it carries.",
                )
                .related(Location::line(path, source.line).with_note(format!("reads {}", source.kind)));
            if let Some(t) = transform {
                b = b.related(Location::line(path, t.line).with_note(format!("{}s", t.kind)));
            }
            out.push(b.build());
            break;
        }

        // Decode/decrypt → execute, or download → execute.
        for sink in file.roles.iter().filter(|r| r.role == Role::ExecSink) {
            let transform = first(&|r: &RoleHit| {
                r.role == Role::Transform
                    && matches!(r.kind, "decode" | "decrypt" | "decompress")
                    && near(r, sink)
            });
            let download = first(&|r: &RoleHit| r.role == Role::NetworkSink && near(r, sink));
            let (title, sev, conf, other, vector) = match (transform, download) {
                (Some(t), Some(_)) => (
                    "Downloaded or decoded data is executed",
                    Severity::Critical,
                    Confidence::High,
                    t,
                    Vector::Payload,
                ),
                (Some(t), None) => (
                    "Decoded data is executed",
                    Severity::High,
                    if t.hunk == sink.hunk || t.line == sink.line {
                        Confidence::High
                    } else {
                        Confidence::Medium
                    },
                    t,
                    Vector::Payload,
                ),
                // `curl … | sh` is how half the world installs tools (Dockerfiles, CI); it is
                // worth a look, not an alarm. Build and install hooks that do it are reported
                // by their own detectors with more context.
                (None, Some(d)) => (
                    "Downloaded content is executed",
                    Severity::Medium,
                    Confidence::Low,
                    d,
                    Vector::InstallHook,
                ),
                (None, None) => continue,
            };
            // Tests hold payloads as data (fixtures, decoder round trips): still reported, since
            // the xz backdoor hid in test files, but never with high confidence there.
            let conf = if file.class.test {
                conf.min(Confidence::Medium)
            } else {
                conf
            };
            out.push(
                META.finding(Location::line(path, sink.line))
                    .title(title)
                    .severity(sev)
                    .confidence(conf)
                    .tag(vector)
                    .evidence(format!("{} … {}", other.text, sink.text))
                    .explanation(
                        "Data that is decoded, decrypted or downloaded at run time reaches an interpreter \
                         or a shell in the same file. Reviewers cannot see what will run; this is how the \
                         event-stream, ua-parser-js and tj-actions payloads were hidden. Decode the data \
                         offline and read it before merging.",
                    )
                    .related(Location::line(path, other.line).with_note(other.kind))
                    .build(),
            );
            break;
        }
    }
}
