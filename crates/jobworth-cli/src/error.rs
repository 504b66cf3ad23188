//! Exit codes (a contract with scripts) and the error every command returns.

use std::fmt::Display;

/// Process exit status. The numbers are part of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Something went wrong that is none of the classes below (I/O, a demo step that deviated).
    Failure,
    /// Usage or configuration error: the user has to change a flag, a file or an environment variable.
    Config,
    /// The API answered with an error (`code`, `message`, trace id).
    Api,
    /// Transport failure, timeout, response verification or decryption failure.
    Transport,
}

impl Exit {
    /// The `code` of the `--json` error object for an error that is not the API's (which carries its own).
    pub fn json_code(self) -> &'static str {
        match self {
            Exit::Failure => "failure",
            Exit::Config => "config-error",
            Exit::Api => "api-error",
            Exit::Transport => "transport-error",
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Exit::Failure => 1,
            Exit::Config => 2,
            Exit::Api => 3,
            Exit::Transport => 4,
        }
    }
}

/// A command's failure: the exit status and, unless the command already printed the details itself,
/// one line for stderr (and a hint line when there is advice beyond the message).
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: Option<String>,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Display) -> Self {
        CliError { exit, message: Some(message.to_string()), hint: None }
    }

    /// The same error with advice on what to do about it.
    pub fn with_hint(mut self, hint: impl Display) -> Self {
        self.hint = Some(hint.to_string());
        self
    }

    /// Exit 2: tell the user what to fix.
    pub fn config(message: impl Display) -> Self {
        Self::new(Exit::Config, message)
    }

    /// Exit 4.
    pub fn transport(message: impl Display) -> Self {
        Self::new(Exit::Transport, message)
    }

    /// Exit 1.
    pub fn failure(message: impl Display) -> Self {
        Self::new(Exit::Failure, message)
    }

    /// Prints this error as the `--json` error object with `code` (nothing for a silent error,
    /// whose command printed its own).
    pub fn print_json(&self, code: &str) {
        if let Some(message) = &self.message {
            crate::output::ErrorJson {
                code,
                message,
                hint: self.hint.as_deref(),
                exit: self.exit.code(),
                http_status: None,
                trace_id: None,
            }
            .print();
        }
    }

    /// The command has already printed everything the user needs; only the status remains.
    pub fn silent(exit: Exit) -> Self {
        CliError { exit, message: None, hint: None }
    }
}
