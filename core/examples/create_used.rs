//! Records that a user used a document, and prints what Graph stored.
//!
//! With no configuration it starts the built-in Graph emulator on loopback
//! — Graph and Entra ID — and gets its token with a client secret, as it
//! would from Microsoft Entra ID:
//!
//!     cargo run --example create_used
//!
//! With `GRAPH_TOKEN` set it talks to real Graph (a token with
//! `Sites.ReadWrite.All` or similar delegated consent for the user):
//!
//!     GRAPH_TOKEN=eyJ0... cargo run --example create_used -- --user alice@contoso.com
//!
//! With an app registration in the environment, as azure-identity reads it,
//! it gets its own tokens from Microsoft Entra ID and talks to real Graph:
//!
//!     AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=... \
//!     AZURE_CLIENT_SECRET=... cargo run --example create_used -- --user alice@contoso.com

use std::process::ExitCode;

use used_insight::credentials::{ClientSecretCredential, EnvironmentCredential};
use used_insight::{
    ApiVersion, Client, DateTimeOffset, ResourceReference, ResourceVisualization, UsageDetails,
    UsedInsight,
};

const HELP: &str = "\
create_used: record a usedInsight (POST /users/{id}/insights/used) and print it

USAGE: cargo run --example create_used -- [OPTIONS] [USER]

OPTIONS:
  --user ID        user id or UPN (default: alice@contoso.com; required with real Graph)
  --title TEXT     document title (default: Quarterly report)
  --url URL        document web URL (default: a SharePoint example)
  --type TEXT      resourceVisualization.type (default: Word)
  --base-url URL   Graph root to use instead of the default
  --beta           use the beta API instead of v1.0
  -h, --help       this text

ENVIRONMENT (the first that is set decides; with none, the built-in emulator):
  GRAPH_TOKEN      bearer token; talks to real Graph with it
  AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH
                   an app registration (PEM with its RSA key and certificate); gets tokens
                   from Microsoft Entra ID and talks to real Graph. AZURE_AUTHORITY_HOST
                   replaces login.microsoftonline.com";

struct Options {
    user: Option<String>,
    title: String,
    url: String,
    kind: String,
    base_url: Option<String>,
    beta: bool,
}

fn parse_args() -> Result<Option<Options>, lexopt::Error> {
    use lexopt::prelude::*;
    let mut options = Options {
        user: None,
        title: "Quarterly report".into(),
        url: "https://contoso.sharepoint.com/sites/finance/Shared%20Documents/report.docx".into(),
        kind: "Word".into(),
        base_url: None,
        beta: false,
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("user") => options.user = Some(parser.value()?.string()?),
            Long("title") => options.title = parser.value()?.string()?,
            Long("url") => options.url = parser.value()?.string()?,
            Long("type") => options.kind = parser.value()?.string()?,
            Long("base-url") => options.base_url = Some(parser.value()?.string()?),
            Long("beta") => options.beta = true,
            Short('h') | Long("help") => return Ok(None),
            Value(user) if options.user.is_none() => options.user = Some(user.string()?),
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    // Keeps the emulator alive until the end of `run` when it is used.
    let mut _emulator = None;
    let mut builder = Client::builder();
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let app_configured = set("AZURE_TENANT_ID")
        && set("AZURE_CLIENT_ID")
        && (set("AZURE_CLIENT_SECRET") || set("AZURE_CLIENT_CERTIFICATE_PATH"));
    let real_graph = if let Ok(token) = std::env::var("GRAPH_TOKEN") {
        builder = builder.token(token);
        Some("GRAPH_TOKEN")
    } else if app_configured {
        builder = builder.credential(EnvironmentCredential::new());
        Some("the app registration in AZURE_*")
    } else {
        None
    };
    let user = match real_graph {
        Some(source) => options.user.ok_or(format!(
            "talking to real Graph with {source}: name the user, e.g. --user alice@contoso.com"
        ))?,
        None => {
            // The emulator plays Entra ID too: register an app and get
            // tokens the way a daemon does, with a client secret.
            let (tenant, app, secret) = ("contoso-demo", "demo-app", "demo-secret");
            let emulator = graph_emulator::Emulator::start(graph_emulator::EmulatorConfig {
                entra_apps: vec![graph_emulator::EntraApp {
                    tenant: tenant.into(),
                    client_id: app.into(),
                    secret: Some(secret.into()),
                    ..Default::default()
                }],
                require_issued_tokens: true,
                ..Default::default()
            })?;
            eprintln!(
                "GRAPH_TOKEN and AZURE_* not set: using the built-in Graph emulator (and its \
                 Entra ID) at {}",
                emulator.base_url()
            );
            let credential =
                ClientSecretCredential::new(tenant, app, secret)?.authority(emulator.base_url())?;
            builder = builder.credential(credential).base_url(emulator.base_url());
            _emulator = Some(emulator);
            options.user.unwrap_or_else(|| "alice@contoso.com".into())
        }
    };
    if let Some(base) = options.base_url {
        builder = builder.base_url(base);
    }
    if options.beta {
        builder = builder.api_version(ApiVersion::Beta);
    }
    let client = builder.build()?;

    let insight = UsedInsight {
        last_used: Some(UsageDetails {
            last_accessed_date_time: Some(DateTimeOffset::now_utc()),
            last_modified_date_time: None,
            ..Default::default()
        }),
        resource_visualization: Some(ResourceVisualization {
            title: Some(options.title),
            r#type: Some(options.kind),
            ..Default::default()
        }),
        resource_reference: Some(ResourceReference {
            web_url: Some(options.url),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = client.create(&user, &insight)?;
    // Pretty-printed in Graph's own property order.
    println!("{}", serde_json::to_string_pretty(&created)?);
    Ok(())
}
