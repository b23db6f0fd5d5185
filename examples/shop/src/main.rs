//! `shop`: a tiny storefront, Tandem's demo workload. Standard library only.
//!
//! Usage: `shop --port PORT` (or env `PORT`), with env `TANDEM_CONFIG_FILE`
//! naming the market's JSON config and optional `TANDEM_RELEASE` / `TANDEM_MARKET`.

mod app;
mod config;
mod http;
mod i18n;
mod json;
mod metrics;
mod money;
mod page;
mod request;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: shop --port PORT   (or set PORT)\n\
environment: TANDEM_CONFIG_FILE (required, market config JSON), TANDEM_RELEASE, TANDEM_MARKET";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve { port: u16 },
    Help,
}

fn parse_port(value: &str, source: &str) -> Result<u16, String> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!(
            "invalid port {value:?} from {source}: expected a number from 1 to 65535"
        )),
    }
}

/// Parses the command line; `env_port` is the value of `PORT`, if set.
fn parse_args(args: &[String], env_port: Option<&str>) -> Result<Command, String> {
    let mut port = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" | "-p" => {
                let value = iter.next().ok_or_else(|| format!("{arg} needs a value"))?;
                port = Some(parse_port(value, arg)?);
            }
            other => match other.strip_prefix("--port=") {
                Some(value) => port = Some(parse_port(value, "--port")?),
                None => return Err(format!("unexpected argument {other:?}")),
            },
        }
    }
    let port = match (port, env_port.filter(|p| !p.trim().is_empty())) {
        (Some(port), _) => port,
        (None, Some(value)) => parse_port(value, "PORT")?,
        (None, None) => return Err("no port given: use --port PORT or set PORT".to_string()),
    };
    Ok(Command::Serve { port })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let env_port = std::env::var("PORT").ok();
    let result = match parse_args(&args, env_port.as_deref()) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            Ok(())
        }
        Ok(Command::Serve { port }) => run(port),
        Err(e) => Err(format!("{e}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(port: u16) -> Result<(), String> {
    let path = std::env::var_os("TANDEM_CONFIG_FILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .ok_or("TANDEM_CONFIG_FILE is not set; it must name the market's JSON config file")?;
    let config = config::Config::load(&path)?;
    let release = std::env::var("TANDEM_RELEASE")
        .ok()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "dev".to_string());
    if let Ok(market) = std::env::var("TANDEM_MARKET") {
        if !market.is_empty() && market != config.market {
            eprintln!(
                "shop: warning: TANDEM_MARKET is {market:?} but {} is for market {:?}",
                path.display(),
                config.market
            );
        }
    }

    let address = format!("127.0.0.1:{port}");
    let listener = TcpListener::bind(&address).map_err(|e| match e.kind() {
        ErrorKind::AddrInUse => format!("port {port} is already in use ({address})"),
        _ => format!("cannot listen on port {port} ({address}): {e}"),
    })?;
    println!(
        "shop {release}: market {} ({}, {}, {}) listening on http://{address}",
        config.market, config.name, config.locale, config.currency
    );
    http::serve(listener, Arc::new(app::State::new(config, &release)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn port_from_flag_or_env() {
        assert_eq!(
            parse_args(&args(&["--port", "8080"]), None),
            Ok(Command::Serve { port: 8080 })
        );
        assert_eq!(
            parse_args(&args(&["--port=81"]), Some("90")),
            Ok(Command::Serve { port: 81 })
        );
        assert_eq!(parse_args(&args(&["-p", "82"]), None), Ok(Command::Serve { port: 82 }));
        assert_eq!(parse_args(&[], Some("9000")), Ok(Command::Serve { port: 9000 }));
        assert_eq!(parse_args(&args(&["--help"]), None), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments() {
        for (list, env, expected) in [
            (&[][..], None, "no port given"),
            (&["--port"][..], None, "--port needs a value"),
            (&["--port", "x"][..], None, "invalid port \"x\""),
            (&["--port", "0"][..], None, "invalid port"),
            (&["--port", "70000"][..], None, "invalid port"),
            (&[][..], Some("abc"), "invalid port \"abc\" from PORT"),
            (&["--verbose"][..], None, "unexpected argument"),
        ] {
            let err = parse_args(&args(list), env).unwrap_err();
            assert!(err.contains(expected), "{list:?}: {err}");
        }
    }
}
