use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use cleanweb_engine::text::Lexicon;

#[derive(Debug, Subcommand)]
pub enum LexiconCommand {
    /// Validate lexicon files and print what they hold.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: LexiconCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LexiconCommand::Check { files } => {
            let mut failed = false;
            for f in files {
                match Lexicon::load(&f) {
                    Ok(lex) => {
                        let (terms, allow, context) = lex.counts();
                        println!(
                            "{}: ok, {terms} term forms, {allow} allow-list forms, {context} context cues",
                            crate::shown(&f)
                        );
                    }
                    Err(e) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
