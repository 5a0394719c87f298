//! Rebuilds the runner when a feature or the requirement index changes: they are
//! compiled into the binary (`include_dir!` in `src/suite.rs`), and cargo does not
//! track the files a macro reads.

fn main() {
    println!("cargo:rerun-if-changed=../features");
}
