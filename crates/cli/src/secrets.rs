//! Asking for passphrases and recovery phrases: from an environment
//! variable for scripts, otherwise at the terminal without echo.

use std::io::{IsTerminal, Read};

use tallymesh_node::Passphrase;
use tallymesh_node::identity::RecoveryPhrase;
use zeroize::Zeroizing;

/// The key file's passphrase, for scripts and services.
pub const PASSPHRASE_ENV: &str = "TALLYMESH_PASSPHRASE";
/// A backup file's passphrase, for scripts.
pub const BACKUP_PASSPHRASE_ENV: &str = "TALLYMESH_BACKUP_PASSPHRASE";

/// What a passphrase is for, in the prompt's words.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Unlocking (or creating) the node's key file.
    KeyFile,
    /// Protecting or opening a backup file.
    Backup,
}

impl Purpose {
    fn env(self) -> &'static str {
        match self {
            Purpose::KeyFile => PASSPHRASE_ENV,
            Purpose::Backup => BACKUP_PASSPHRASE_ENV,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Purpose::KeyFile => "key file passphrase",
            Purpose::Backup => "backup passphrase",
        }
    }
}

/// The passphrase for `purpose`: the environment variable if it is set,
/// otherwise asked at the terminal (twice when `new`, to catch typos).
pub fn passphrase(purpose: Purpose, new: bool) -> Result<Passphrase, String> {
    if let Ok(text) = std::env::var(purpose.env()) {
        return Ok(Passphrase::new(text));
    }
    let no_terminal = |e: std::io::Error| {
        let text = e.to_string();
        let reason = text
            .find(" (os error")
            .map_or(text.as_str(), |cut| &text[..cut])
            .to_lowercase();
        format!(
            "cannot ask for the {} ({reason}); set {} instead",
            purpose.noun(),
            purpose.env()
        )
    };
    let noun = purpose.noun();
    if new {
        eprintln!("Choose a {noun} of at least 8 characters.");
    }
    let first = Passphrase::new(
        rpassword::prompt_password(if new {
            format!("New {noun}: ")
        } else {
            format!("{}: ", capitalised(noun))
        })
        .map_err(no_terminal)?,
    );
    if new {
        let again = Passphrase::new(rpassword::prompt_password(format!("Repeat the {noun}: ")).map_err(no_terminal)?);
        if again != first {
            return Err("the two passphrases differ; nothing was changed".to_owned());
        }
    }
    Ok(first)
}

/// A recovery phrase: all of stdin when it is not a terminal (a pipe or a
/// file), otherwise asked at the terminal without echo.
pub fn recovery_phrase() -> Result<RecoveryPhrase, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let text = rpassword::prompt_password("Recovery phrase (24 words, separated by spaces): ")
            .map_err(|e| format!("cannot ask for the recovery phrase: {e}"))?;
        return Ok(RecoveryPhrase::new(text));
    }
    let mut text = Zeroizing::new(String::new());
    stdin
        .lock()
        .take(4096)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read the recovery phrase from stdin: {e}"))?;
    Ok(RecoveryPhrase::new(text.as_str()))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_start_with_a_capital() {
        assert_eq!(capitalised("key file passphrase"), "Key file passphrase");
        assert_eq!(capitalised(""), "");
    }
}
