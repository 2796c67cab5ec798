//! Embedded templates and static assets (rust-embed) rendered by minijinja with HTML
//! autoescaping: a package field full of `<script>` prints as text.

use crate::error::Result;
use minijinja::Environment;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "embedded/"]
pub struct Assets;

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> Templates {
        let mut env = Environment::new();
        // Debug builds (every test, `cargo run`) render strictly: printing or looping over an
        // unknown variable is an error, so a template that would print nothing fails its test.
        // Release builds render leniently, so a venue never sees a 500 for a missing hint.
        #[cfg(debug_assertions)]
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
        for name in Assets::iter() {
            if let Some(tpl) = name.strip_prefix("templates/") {
                if let Some(file) = Assets::get(&name) {
                    let text = String::from_utf8_lossy(&file.data).into_owned();
                    if let Err(e) = env.add_template_owned(tpl.to_string(), text) {
                        // A broken template is a build defect; the unit test below catches it.
                        log::error!("template {tpl}: {e}");
                    }
                }
            }
        }
        env.add_filter("filesize", |n: i64| -> String {
            if n >= 1024 * 1024 {
                format!("{:.1} MB", n as f64 / 1048576.0)
            } else {
                format!("{:.0} KB", (n as f64 / 1024.0).ceil())
            }
        });
        Templates { env }
    }

    pub fn render(&self, name: &str, ctx: serde_json::Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }

    /// Renders from a context already in minijinja's values (no serde_json tree in between).
    pub fn render_value(&self, name: &str, ctx: minijinja::Value) -> Result<String> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }
}

/// Whether `static_asset(path)` would find a file (without copying it).
pub fn static_asset_exists(path: &str) -> bool {
    Assets::iter().any(|name| name.strip_prefix("static/") == Some(path))
}

pub fn static_asset(path: &str) -> Option<(Vec<u8>, &'static str)> {
    let file = Assets::get(&format!("static/{path}"))?;
    let ct = match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    };
    Some((file.data.into_owned(), ct))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        let mut n = 0;
        for name in Assets::iter() {
            if let Some(tpl) = name.strip_prefix("templates/") {
                let text = String::from_utf8_lossy(&Assets::get(&name).unwrap().data).into_owned();
                env.add_template_owned(tpl.to_string(), text).unwrap_or_else(|e| panic!("{tpl}: {e}"));
                n += 1;
            }
        }
        assert!(n > 5);
    }
}
