//! The resolver's configuration: what `/etc/resolv.conf` and `/etc/hosts`
//! say (pure parsers in [`resolv`] and [`hosts`]) and the loader that reads
//! them from overridable paths. Reading happens once, when the caller asks
//! (a blocking file read, so at start-up, not on the service thread per
//! lookup). This module must not resolve anything.

pub mod hosts;
pub mod resolv;

pub use hosts::Hosts;
pub use resolv::ResolvConf;

use std::path::PathBuf;

/// Where the system files are; tests point these elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// resolv.conf(5).
    pub resolv_conf: PathBuf,
    /// hosts(5).
    pub hosts: PathBuf,
}

impl Default for ConfigPaths {
    fn default() -> Self {
        ConfigPaths {
            resolv_conf: "/etc/resolv.conf".into(),
            hosts: "/etc/hosts".into(),
        }
    }
}

/// The two files, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemConfig {
    /// resolv.conf.
    pub resolv: ResolvConf,
    /// The hosts table.
    pub hosts: Hosts,
}

impl SystemConfig {
    /// Reads and parses both files. A missing or unreadable file gives the
    /// defaults (as the C library does): the error is returned beside the
    /// result so the caller can log it.
    pub fn load(paths: &ConfigPaths) -> (Self, Vec<std::io::Error>) {
        let mut errors = Vec::new();
        let mut read = |path: &PathBuf| {
            std::fs::read_to_string(path).unwrap_or_else(|e| {
                errors.push(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", path.display()),
                ));
                String::new()
            })
        };
        let resolv = ResolvConf::parse(&read(&paths.resolv_conf));
        let hosts = Hosts::parse(&read(&paths.hosts));
        (SystemConfig { resolv, hosts }, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_from_overridden_paths() {
        let dir = std::env::temp_dir().join(format!("lws-dns-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let paths = ConfigPaths {
            resolv_conf: dir.join("resolv.conf"),
            hosts: dir.join("hosts"),
        };
        std::fs::write(
            &paths.resolv_conf,
            "nameserver 192.0.2.53\noptions ndots:2\n",
        )
        .expect("write");
        std::fs::write(&paths.hosts, "192.0.2.9 box\n").expect("write");
        let (conf, errors) = SystemConfig::load(&paths);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(conf.resolv.ndots, 2);
        assert_eq!(conf.hosts.lookup("box").len(), 1);
        let missing = ConfigPaths {
            resolv_conf: dir.join("none"),
            hosts: dir.join("none2"),
        };
        let (conf, errors) = SystemConfig::load(&missing);
        assert_eq!((conf, errors.len()), (SystemConfig::default(), 2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
