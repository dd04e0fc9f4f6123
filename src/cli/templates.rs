//! `aircall-dest templates [NAME]`: lists the endpoint templates or describes one; `--json`
//! gives the same as one JSON document.

use super::context::{Failure, Outcome};
use super::{TemplatesArgs, exit};
use crate::templates;
use serde_json::{Value, json};

pub fn run(args: &TemplatesArgs) -> Outcome {
    if args.json {
        let value = match &args.name {
            Some(name) => describe(find(name)?),
            None => templates::all().iter().map(describe).collect(),
        };
        println!("{value}");
        return Ok(exit::SUCCESS);
    }
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
    let template = find(name)?;
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

fn find(name: &str) -> Result<&'static templates::Template, Failure> {
    templates::get(name).ok_or_else(|| {
        let ids: Vec<&str> = templates::all().iter().map(|t| t.id.as_str()).collect();
        Failure::usage(format!(
            "unknown template {name:?}: expected one of {}",
            ids.join(", ")
        ))
    })
}

/// A template as JSON: what the text description shows, field by field.
fn describe(template: &templates::Template) -> Value {
    let parameters: Vec<Value> = template
        .parameters
        .iter()
        .map(|p| json!({"name": p.name, "default": p.default, "description": p.description}))
        .collect();
    let resources: Vec<Value> = template
        .resources
        .iter()
        .map(|resource| {
            let fields: Vec<Value> = resource
                .fields
                .iter()
                .map(|field| {
                    json!({
                        "name": field.name,
                        "required": field.required,
                        "kind": format!("{:?}", field.kind).to_lowercase(),
                        "description": field.description,
                    })
                })
                .collect();
            json!({
                "id": resource.id,
                "name": resource.name,
                "method": resource.method.unwrap_or(template.method).to_string(),
                "path": resource.path,
                "note": resource.note,
                "fields": fields,
            })
        })
        .collect();
    json!({
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "method": template.method.to_string(),
        "parameters": parameters,
        "resources": resources,
        "custom_resource": template.allows_custom(),
    })
}
