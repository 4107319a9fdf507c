//! libev has no -sys crate and its API is mostly macros (watcher layout
//! depends on its build configuration), so a small C shim allocates and
//! drives the watchers.
//!
//! libev's library also carries a libevent emulation (`event_add`,
//! `event_del`, ... in its `event.o`). Linked dynamically next to the real
//! libevent (the `loop-libevent` adapter in the same binary), those symbols
//! can capture libevent's calls and crash. So we take only `ev.o` out of
//! the system's static libev (Debian: libev-dev) and link it with the shim:
//! the emulation never enters the binary.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=shim/lws_ev.c");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let lib = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib",
    ]
    .iter()
    .map(|d| PathBuf::from(d).join("libev.a"))
    .find(|p| p.exists());
    let mut build = cc::Build::new();
    build.file("shim/lws_ev.c").warnings(true);
    match lib {
        Some(a) => {
            println!("cargo:rerun-if-changed={}", a.display());
            let ok = Command::new("ar")
                .arg("x")
                .arg(&a)
                .arg("ev.o")
                .current_dir(&out)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                build.object(out.join("ev.o"));
                build.compile("lws_ev");
                println!("cargo:rustc-link-lib=m");
                return;
            }
            println!(
                "cargo:warning=could not extract ev.o from {}; linking libev dynamically",
                a.display()
            );
        }
        None => println!(
            "cargo:warning=no static libev found; linking libev dynamically (do not combine with the libevent adapter)"
        ),
    }
    build.compile("lws_ev");
    println!("cargo:rustc-link-lib=ev");
}
