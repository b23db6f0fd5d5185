//! Read models: what a page or an answer shows, read and assembled behind the engine's door.
//! Each function reads a fixed number of things (however many markets, runs or ideas there
//! are) and answers a plain struct of rows and figures; the server only renders it (the web
//! UI) or converts it to its wire type (the API), so the two never assemble the same facts
//! twice, nor differently.
//!
//! - [`markets`]: the market matrix, the markets page and one market's page;
//! - [`overview`]: the overview page (the matrix by wave, what is in flight, open incidents);
//! - [`runs`], [`rollouts`], [`ideas`]: a run with its jobs, a rollout as waves × markets,
//!   where ideas stand;
//! - [`incidents`]: one incident as a responder reads it;
//! - [`delivery`]: the DORA keys, their trend and the live markets' series for one filter;
//! - [`configure`]: each service's config per market and its flags in force;
//! - [`releases`], [`flag_pages`], [`market_history`]: a release (or a commit) with what it
//!   brings and where it runs, a flag with its markets and history, a market's history.

pub mod configure;
pub mod delivery;
pub mod flag_pages;
pub mod ideas;
pub mod incidents;
pub mod market_history;
pub mod markets;
pub mod overview;
pub mod releases;
pub mod rollouts;
pub mod runs;
