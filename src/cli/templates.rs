//! `aircall-dest templates [NAME]`: lists the endpoint templates or describes one.

use super::context::{Failure, Outcome};
use super::{TemplatesArgs, exit};
use crate::templates;

pub fn run(args: &TemplatesArgs) -> Outcome {
    let Some(name) = &args.name else {
        for template in templates::all() {
            let mut resources: Vec<&str> =
                template.resources.iter().map(|r| r.id.as_str()).collect();
            if template.allows_custom() {
                resources.push(templates::CUSTOM);
            }
            println!(
                "{:<24} {:<24} {}",
                template.id,
                template.name,
                resources.join(", ")
            );
        }
        println!("\n`aircall-dest templates NAME` describes one.");
        return Ok(exit::SUCCESS);
    };
    let template = templates::get(name).ok_or_else(|| {
        let ids: Vec<&str> = templates::all().iter().map(|t| t.id.as_str()).collect();
        Failure::usage(format!(
            "unknown template {name:?}: expected one of {}",
            ids.join(", ")
        ))
    })?;
    println!(
        "{} ({})\n{}\n",
        template.name, template.id, template.description
    );
    if !template.parameters.is_empty() {
        println!("Parameters:");
        for p in &template.parameters {
            println!(
                "  {:<16} default {:<10} {}",
                p.name,
                format!("{:?}", p.default),
                p.description
            );
        }
        println!();
    }
    for resource in &template.resources {
        let method = resource.method.unwrap_or(template.method);
        println!(
            "Resource {} ({}): {method} {}",
            resource.id, resource.name, resource.path
        );
        if let Some(note) = &resource.note {
            println!("  note: {note}");
        }
        for field in &resource.fields {
            let mark = if field.required {
                "required"
            } else {
                "optional"
            };
            println!(
                "  {:<16} {:<9} {:<11} {}",
                field.name,
                mark,
                format!("{:?}", field.kind).to_lowercase(),
                field.description
            );
        }
    }
    if template.allows_custom() {
        println!(
            "Resource custom: {} <custom_path> (any resource path you type)",
            template.method
        );
    }
    Ok(exit::SUCCESS)
}
