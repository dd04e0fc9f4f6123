//! `aircall-dest activate` and `pause`: flip a destination's `status` through the same
//! comment-keeping writer as the wizard's Save, so comments, order and spacing stay as the
//! person left them and only the `status` line changes.

use std::path::Path;

use super::context::Outcome;
use super::{DestArg, exit};
use crate::destination::{Destination, Status};

pub fn activate(args: &DestArg) -> Outcome {
    set(&args.dest, Status::Active)
}

pub fn pause(args: &DestArg) -> Outcome {
    set(&args.dest, Status::Paused)
}

fn set(path: &Path, status: Status) -> Outcome {
    let shown = path.display();
    let (original, mut destination) = Destination::read(path)?;
    if destination.status == status {
        println!(
            "{shown}: destination {:?} is already {status}",
            destination.name
        );
        return Ok(exit::SUCCESS);
    }
    destination.status = status;
    destination.save_over(path, &original)?;
    println!(
        "{shown}: destination {:?} is now {status}",
        destination.name
    );
    Ok(exit::SUCCESS)
}
