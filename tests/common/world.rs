//! One end-to-end test's world: its managed containers, a records file, a lock file and a
//! state directory in a scratch directory, and the tool run against them.

use super::e2e::{Managed, tool};
use std::path::{Path, PathBuf};
use std::process::Output;

/// One test's world: its managed containers (see [`Managed`]), a records file, a lock file
/// and a state directory in a scratch directory.
pub struct World {
    /// The scratch directory.
    pub dir: PathBuf,
    /// The test's containers, removed when it ends.
    pub managed: Managed,
    /// `--settle` for every run.
    pub settle: &'static str,
}

impl World {
    /// A world for the test `tag`: its containers are named `e2e-<tag>-<name>`.
    pub fn new(tag: &str) -> World {
        let managed = Managed::new(format!("e2e-{tag}"));
        let dir = std::env::temp_dir().join(format!("ddp-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        World {
            dir,
            managed,
            settle: "1s",
        }
    }

    /// The container name of `n` in this world.
    pub fn name(&self, n: &str) -> String {
        self.managed.name(n)
    }

    /// The prefix of every container name of this world.
    pub fn prefix(&self) -> &str {
        &self.managed.prefix
    }

    /// The records file the runs read.
    pub fn records_path(&self) -> PathBuf {
        self.dir.join("records.conf")
    }

    /// Write the records: `(container, text)`; the list is the containers named.
    pub fn records(&self, containers: &[(&str, Option<&str>)]) {
        let mut s = String::new();
        for (n, _) in containers {
            s += &format!("txt-record=containers.docker.e2e.test,{}\n", self.name(n));
        }
        for (n, text) in containers {
            if let Some(t) = text {
                s += &format!(
                    "txt-record={}.containers.docker.e2e.test,\"{}\"\n",
                    self.name(n),
                    t.replace('"', "\\\"")
                );
            }
        }
        std::fs::write(self.records_path(), s).unwrap();
    }

    /// The arguments of `cmd` against this world's records, lock and state.
    pub fn args(&self, cmd: &str) -> Vec<String> {
        vec![
            cmd.to_string(),
            "--hostname".into(),
            "e2e.test".into(),
            "--records".into(),
            self.records_path().display().to_string(),
            "--lock-file".into(),
            self.dir.join("lock").display().to_string(),
            "--state-dir".into(),
            self.dir.join("state").display().to_string(),
            "--timeout".into(),
            "20s".into(),
            // Long enough to see a container die at once; tests of the window set their own.
            "--settle".into(),
            self.settle.into(),
        ]
    }

    /// `apply`, and what it printed.
    pub fn apply(&self) -> Output {
        self.run(&self.args("apply"), &[])
    }

    /// `apply` through the engine socket `socket` (a proxy).
    pub fn apply_via(&self, socket: &Path) -> Output {
        self.run(
            &self.args("apply"),
            &[
                "--docker-host".into(),
                format!("unix://{}", socket.display()),
            ],
        )
    }

    /// The tool with `args` then `extra`.
    pub fn run(&self, args: &[String], extra: &[String]) -> Output {
        tool(&[args, extra].concat())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
