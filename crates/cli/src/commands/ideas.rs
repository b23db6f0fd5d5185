//! `tandem idea add` (`POST /api/v1/ideas`, developers and up) and `tandem idea list`
//! (`GET /api/v1/ideas`, any role). `tandem idea flow KEY` is in [`super::flow`].

use super::show;
use crate::client::{Client, ClientArgs};
use crate::output::{print_json, print_table, time};
use clap::Subcommand;
use tandem_wire::ideas::{Idea, IdeaDetail, NewIdea};

/// `tandem idea`: add, list, and follow one idea's flow.
#[derive(Debug, Subcommand)]
pub enum IdeaCommand {
    /// Add an idea; mention its key (`T-12`) in commit messages to link them.
    #[command(after_help = "Example:\n  tandem idea add \"Pay with iDEAL\" --market nl")]
    Add {
        title: String,
        /// A target market (repeatable); none means every market.
        #[arg(long = "market")]
        markets: Vec<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List ideas and where each stands.
    #[command(after_help = "Example:\n  tandem idea list --json")]
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// An idea's way to production: each stage's time and wait, and where it is live now.
    #[command(after_help = "Example:\n  tandem idea flow T-12\n  tandem idea flow T-12 --json")]
    Flow {
        key: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

impl IdeaCommand {
    /// Runs the subcommand against the server.
    pub async fn run(self) -> anyhow::Result<()> {
        match self {
            IdeaCommand::Add { title, markets, client } => {
                let idea: Idea = Client::from_args(&client)
                    .post("/api/v1/ideas", &NewIdea { title, markets })
                    .await?;
                if client.json {
                    return print_json(&idea);
                }
                outln!("Added idea {}: {}", show(&idea.key), show(&idea.title))?;
                Ok(())
            }
            IdeaCommand::Flow { key, client } => super::flow::show_idea(&key, &client).await,
            IdeaCommand::List { client } => {
                let ideas: Vec<IdeaDetail> = Client::from_args(&client).get("/api/v1/ideas").await?;
                if client.json {
                    return print_json(&ideas);
                }
                let rows = ideas
                    .iter()
                    .map(|i| {
                        let live = &i.live_in;
                        vec![
                            show(&i.idea.key),
                            show(&i.idea.title),
                            show(&i.state),
                            i.commits.len().to_string(),
                            if live.is_empty() { "-".into() } else { live.join(" ") },
                            time(Some(i.idea.created_at)),
                        ]
                    })
                    .collect();
                print_table(&["key", "title", "state", "commits", "live in", "created"], rows)?;
                Ok(())
            }
        }
    }
}
