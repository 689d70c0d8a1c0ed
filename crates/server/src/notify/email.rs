//! E-mail over SMTP with `lettre`.
//!
//! The relay comes from [`super::config::SmtpConfig`]; STARTTLS and implicit TLS use rustls
//! (ring) with the Mozilla roots. Messages are plain text, carry a stable `Message-ID` derived
//! from the delivery key (a retried delivery is recognisably the same message), and hold only
//! what the recipient may see: a link, the case's state and the event, never case content.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::config::{SmtpConfig, SmtpTls};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// A mail to send.
#[derive(Debug)]
pub struct Mail {
    /// Recipient address (validated when the user saved it).
    pub to: String,
    /// Subject (built by us, never from submitted text).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Stable id part for `Message-ID`.
    pub message_id: String,
}

/// Whether `address` is a single mailbox address we can send to (no display name tricks, no
/// header-breaking characters).
#[must_use]
pub fn valid_address(address: &str) -> bool {
    address.len() <= sx_store::notify::MAX_EMAIL_LEN
        && !address.chars().any(|c| {
            c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && address.parse::<lettre::Address>().is_ok()
}

/// Sends one mail through the relay.
///
/// # Errors
/// A message for the job's failure record (relay unreachable, refused, bad address).
pub async fn send(smtp: &SmtpConfig, mail: &Mail) -> Result<(), String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("smtp_from is not a mailbox: {e}"))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| format!("the recipient address is invalid: {e}"))?;
    // Plain 7-bit text keeps links intact for every reader (quoted-printable would split
    // them); a body that does not fit 7 bits gets lettre's automatic encoding.
    let body = Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::SevenBit)
        .unwrap_or_else(Body::new);
    let domain = from.email.domain().to_string();
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", mail.message_id)))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("the message could not be built: {e}"))?;
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| format!("cannot set up STARTTLS to {}: {e}", smtp.host))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| format!("cannot set up TLS to {}: {e}", smtp.host))?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
    if let Some(user) = &smtp.username {
        let password = smtp.password()?.unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let transport = builder.build();
    transport.send(message).await.map(|_| ()).map_err(|e| {
        format!(
            "the SMTP relay {}:{} did not accept the mail: {e}",
            smtp.host, smtp.port
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_could_break_headers_are_refused() {
        assert!(valid_address("mia@example.org"));
        for bad in [
            "mia@example.org\r\nBcc: x@evil.example",
            "Mia <mia@example.org>",
            "a@b.org, c@d.org",
            "no-at-sign",
            "",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
    }
}
