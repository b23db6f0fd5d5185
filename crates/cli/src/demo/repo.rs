//! The demo's service repository: the shop's sources (embedded in the binary at build time)
//! committed with real git, a few commits that mention the demo's ideas.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

macro_rules! shop_file {
    ($path:literal) => {
        ($path, include_str!(concat!("../../../../examples/shop/", $path)))
    };
}

/// The shop's source files, as they are in examples/shop.
const SOURCES: &[(&str, &str)] = &[
    shop_file!("Cargo.toml"),
    shop_file!("Cargo.lock"),
    shop_file!(".gitignore"),
    shop_file!("src/main.rs"),
    shop_file!("src/app.rs"),
    shop_file!("src/config.rs"),
    shop_file!("src/http.rs"),
    shop_file!("src/i18n.rs"),
    shop_file!("src/json.rs"),
    shop_file!("src/json/tests.rs"),
    shop_file!("src/metrics.rs"),
    shop_file!("src/money.rs"),
    shop_file!("src/page.rs"),
    shop_file!("src/request.rs"),
    shop_file!("config/schema.json"),
];

const PIPELINE: (&str, &str) = shop_file!("tandem.yml");

/// The commits the demo makes, in order: message and the files each adds.
fn history() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        (
            "T-1: storefront in each market's language and currency, prices with VAT",
            SOURCES.to_vec(),
        ),
        ("T-2: build, test and deploy the shop with Tandem", vec![PIPELINE]),
        (
            "T-1: say what the shop is in its README",
            vec![(
                "README.md",
                "# shop\n\nTandem's demo storefront: one binary, one market per process.\n",
            )],
        ),
    ]
}

/// Creates the repository at `dir` (which must not exist) with the demo's commits.
pub fn create(dir: &Path) -> Result<()> {
    if dir.exists() {
        bail!("{} already exists: the demo makes its repository afresh", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    git(dir, &["init", "--quiet", "--initial-branch=main"])?;
    for (message, files) in history() {
        for (path, content) in files {
            let file = dir.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&file, content).with_context(|| format!("cannot write {}", file.display()))?;
        }
        git(dir, &["add", "--all"])?;
        git(dir, &["commit", "--quiet", "--message", message])?;
    }
    Ok(())
}

/// The faulty change, as edits of the shop's `src/app.rs`: (what is there, what replaces it).
/// It adds a page, `/delivery`, that its tests do not cover.
const FAULTY_EDITS: [(&str, &str); 2] = [
    (
        "    if !matches!(path, \"/\" | \"/healthz\" | \"/metrics\") {\n",
        "    if !matches!(path, \"/\" | \"/delivery\" | \"/healthz\" | \"/metrics\") {\n",
    ),
    (
        "        \"/healthz\" => Response::text(200, \"ok\"),\n",
        "        // T-4: a delivery estimate per country, from the locale's country part (`fr_FR`).\n        \
         \"/delivery\" => match state.config.locale.split('_').nth(1) {\n            \
         Some(country) => Response::text(200, format!(\"delivery to {country}: 2 to 3 days\\n\")),\n            \
         None => Response::text(500, \"no delivery estimate: the locale has no country part\\n\"),\n        \
         },\n        \
         \"/healthz\" => Response::text(200, \"ok\"),\n",
    ),
];

/// Commits a change with a real bug: it passes the shop's tests and builds, and every process
/// starts and answers its probe, but its new page answers 500 to every shopper, since locales
/// are written `fr-FR`, not `fr_FR`. The pilot market's canary catches it on real traffic.
pub fn commit_faulty_change(dir: &Path) -> Result<()> {
    let file = dir.join("src/app.rs");
    let mut text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
    for (anchor, replacement) in FAULTY_EDITS {
        if !text.contains(anchor) {
            bail!("the shop's src/app.rs changed: the demo cannot find where its faulty change goes");
        }
        text = text.replacen(anchor, replacement, 1);
    }
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    git(
        dir,
        &[
            "commit",
            "--quiet",
            "--all",
            "--message",
            "T-4: show a delivery estimate per country",
        ],
    )
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Camille Dev")
        .env("GIT_AUTHOR_EMAIL", "camille@shop.example")
        .env("GIT_COMMITTER_NAME", "Camille Dev")
        .env("GIT_COMMITTER_EMAIL", "camille@shop.example")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .context("cannot run git: the demo needs git installed")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_faulty_change_finds_its_places_in_the_shop() {
        let app = include_str!("../../../../examples/shop/src/app.rs");
        for (anchor, _) in super::FAULTY_EDITS {
            assert!(app.contains(anchor), "{anchor:?} is not in the shop's src/app.rs");
        }
    }
}
