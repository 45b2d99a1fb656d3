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
            // A file's rules may combine the built-in lexicon's groups.
            let builtin = Lexicon::builtin();
            for f in files {
                match Lexicon::load(&f)
                    .and_then(|lex| lex.check_rules(Some(&builtin)).map(|()| lex))
                {
                    Ok(lex) => {
                        let (terms, allow, context) = lex.counts();
                        println!(
                            "{}: ok, {terms} term forms, {allow} allow-list and sense forms, {context} context cues and signals, {} rules",
                            crate::shown(&f),
                            lex.rules.len()
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
