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

/// Where the faulty change goes in the shop's `src/main.rs`, and what it adds.
const FAULTY_ANCHOR: &str = "    let config = config::Config::load(&path)?;\n";
const FAULTY_CODE: &str = "    // T-4: delivery estimates need the market's country code.\n    \
    let country = config.locale.split('_').nth(1).expect(\"locale has a country part\").to_string();\n    \
    eprintln!(\"shop: delivery estimates for {country}\");\n";

/// Commits a change with a real bug: it passes the shop's tests and builds, but every process
/// panics at start-up, since locales are written `fr-FR`, not `fr_FR`. The pilot market's
/// probe catches it.
pub fn commit_faulty_change(dir: &Path) -> Result<()> {
    let main = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&main).with_context(|| format!("cannot read {}", main.display()))?;
    if !text.contains(FAULTY_ANCHOR) {
        bail!("the shop's src/main.rs changed: the demo cannot find where its faulty change goes");
    }
    let changed = text.replacen(FAULTY_ANCHOR, &format!("{FAULTY_ANCHOR}{FAULTY_CODE}"), 1);
    std::fs::write(&main, changed).with_context(|| format!("cannot write {}", main.display()))?;
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
