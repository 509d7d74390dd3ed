//! The Nabo relay (arrives with issue 3).

fn main() {
    eprintln!("nabo-server: the relay is not built yet (issue 3); see README.md");
    std::process::exit(2);
}
