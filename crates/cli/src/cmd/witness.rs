//! `elicense witness admit|forks`: the node as its children's witness (C2SP tlog-witness).
//! Only parses and prints: the use cases are `elicense_app::federation::witness`.

use elicense_app::federation::witness;

use super::with_node;
use crate::cli::WitnessCommand;
use crate::output;

pub async fn run(cmd: WitnessCommand) -> i32 {
    match cmd {
        WitnessCommand::Admit {
            data,
            origin,
            vkey,
            url,
        } => {
            with_node(&data, false, |node| async move {
                witness::admit(&node, &origin, &vkey, &url).await?;
                eprintln!("log {origin} admitted: this node co-signs its checkpoints");
                output::json(&serde_json::json!({"origin": origin, "vkeys": vkey, "url": url}));
                Ok(0)
            })
            .await
        }
        WitnessCommand::Forks { data, after, limit } => {
            with_node(&data, true, |node| async move {
                output::json(&witness::forks(&node, after, limit).await?);
                Ok(0)
            })
            .await
        }
    }
}
