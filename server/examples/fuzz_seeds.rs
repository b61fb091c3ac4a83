//! Writes the fuzzer's seed corpus: one file per seed conversation
//! (`werktafel_server::fuzzing::seed_inputs`) and one per valid message sent
//! by peer 0. Usage: `cargo run -p werktafel-server --example fuzz_seeds -- DIR`.

use werktafel_server::fuzzing::{Step, encode_steps, seed_inputs, seed_messages};

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus/sync_bytes".into());
    std::fs::create_dir_all(&dir)?;
    let mut written = 0;
    for (name, input) in seed_inputs() {
        std::fs::write(format!("{dir}/seed-{name}"), input)?;
        written += 1;
    }
    for (i, message) in seed_messages().into_iter().enumerate() {
        let input = encode_steps(&[Step::new(0, message)]);
        std::fs::write(format!("{dir}/seed-message-{i:02}"), input)?;
        written += 1;
    }
    println!("wrote {written} seeds to {dir}");
    Ok(())
}
