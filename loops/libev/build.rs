//! libev has no -sys crate and its API is mostly macros (watcher layout
//! depends on its build configuration), so a small C shim allocates and
//! drives the watchers; we link the system libev (Debian: libev-dev).
fn main() {
    println!("cargo:rerun-if-changed=shim/lws_ev.c");
    cc::Build::new()
        .file("shim/lws_ev.c")
        .warnings(true)
        .compile("lws_ev");
    println!("cargo:rustc-link-lib=ev");
}
