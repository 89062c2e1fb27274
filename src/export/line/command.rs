//! The end of the line: the entrypoint, the image and the command, each written only where
//! the container's differs from the image's.

use super::{Writer, text, texts, word};

impl Writer<'_> {
    /// `--entrypoint`, the image and the command words.
    pub(super) fn image_and_command(&mut self) {
        let (ep, iep) = (&self.c["Entrypoint"], &self.img["Entrypoint"]);
        let (cmd, icmd) = (texts(&self.c["Cmd"]), texts(&self.img["Cmd"]));
        // The engine takes the image's command only when the entrypoint is the image's too:
        // an own entrypoint with no command (or the image's) must say so.
        let own_entrypoint = ep != iep || (cmd.is_empty() && !icmd.is_empty());
        let mut tail: Vec<&str> = Vec::new();
        if own_entrypoint {
            let words = texts(ep);
            match words.split_first() {
                None => self.put("entrypoint", ""),
                Some((first, rest)) => {
                    self.put("entrypoint", first);
                    if !rest.is_empty() {
                        self.note(format!(
                            "the entrypoint has {} words and --entrypoint takes one: the others lead the command",
                            words.len()
                        ));
                    }
                    tail.extend(rest);
                }
            }
        }
        if own_entrypoint || cmd != icmd {
            tail.extend(cmd);
        }
        let image = self.image_name();
        self.out.words.push(word(&image));
        self.out.words.extend(tail.iter().map(|w| word(w)));
    }

    /// The image as the container was created with it: `Config.Image`, else (an engine that
    /// leaves it out) the image name or ID it reports.
    fn image_name(&mut self) -> String {
        let typed = text(&self.c["Image"]);
        if !typed.is_empty() {
            return typed.to_string();
        }
        let fallback = [&self.top["ImageName"], &self.top["Image"]]
            .into_iter()
            .map(text)
            .find(|s| !s.is_empty())
            .unwrap_or_default()
            .to_string();
        if fallback.is_empty() {
            self.note("the engine does not say which image the container runs: put it in");
            return "IMAGE".into();
        }
        fallback
    }
}
