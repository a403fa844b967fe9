//! Runs an OpenQASM 2.0 or 3 file on a qshade backend and prints expectation values and
//! measurement counts.
//!
//! ```sh
//! cargo run --release --example run_qasm -- tests/qasm/ghz5.v3.qasm --shots 1000
//! cargo run --release --example run_qasm -- tests/qasm/ansatz_4q.v3.qasm --cpu \
//!     --param θ0=0.1 --param θ1=-0.4 --observable "Z0 Z1" --observable "0.5 X2"
//! ```
//!
//! Options: `--cpu` / `--gpu` (default: `qshade::choose_backend()`), `--shots N` (counts of
//! the measured bits, Qiskit's bit order: the highest classical bit first; all qubits when the
//! file measures none; default 1024, 0 for none), `--seed S`, `--observable "PAULI SUM"`
//! (repeatable), `--param NAME=VALUE` (repeatable; `input` parameters not given are 0).

#[path = "common/backend.rs"]
mod backend;

use qshade::qasm;
use qshade::{Bindings, Error, Observable, Result};
use std::collections::BTreeMap;

/// The command line, parsed.
struct Args {
    file: String,
    shots: usize,
    seed: u64,
    observables: Vec<String>,
    params: BTreeMap<String, f64>,
}

fn usage(problem: &str) -> Error {
    Error::InvalidArgument(format!(
        "{problem}\nusage: run_qasm FILE.qasm [--cpu|--gpu] [--shots N] [--seed S] \
         [--observable \"Z0 Z1\"]… [--param NAME=VALUE]…"
    ))
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        file: String::new(),
        shots: 1024,
        seed: 7,
        observables: Vec::new(),
        params: BTreeMap::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |what: &str| it.next().ok_or_else(|| usage(&format!("{a} needs {what}")));
        match a.as_str() {
            "--cpu" | "--gpu" => {}
            "--shots" => {
                args.shots = value("a count")?
                    .parse()
                    .map_err(|_| usage("--shots takes a non-negative integer"))?
            }
            "--seed" => {
                args.seed = value("a number")?
                    .parse()
                    .map_err(|_| usage("--seed takes a non-negative integer"))?
            }
            "--observable" => args.observables.push(value("a Pauli sum")?),
            "--param" => {
                let v = value("NAME=VALUE")?;
                let (name, x) = v
                    .split_once('=')
                    .ok_or_else(|| usage("--param takes NAME=VALUE"))?;
                let x: f64 = x
                    .parse()
                    .map_err(|_| usage(&format!("--param {name}: {x:?} is not a number")))?;
                args.params.insert(name.to_string(), x);
            }
            s if s.starts_with("--") => return Err(usage(&format!("unknown option {s}"))),
            s if args.file.is_empty() => args.file = s.to_string(),
            s => return Err(usage(&format!("a second file {s:?}"))),
        }
    }
    if args.file.is_empty() {
        return Err(usage("no .qasm file given"));
    }
    Ok(args)
}

fn run() -> Result<()> {
    let backend = backend::backend()?;
    let args = parse_args()?;
    let source = std::fs::read_to_string(&args.file).map_err(|e| Error::Io {
        path: args.file.clone(),
        message: e.to_string(),
    })?;
    let program = qasm::parse(&source)?;
    let c = &program.circuit;
    println!(
        "{}: OpenQASM {:?}, {} qubits, {} gates, {} classical bits, {} measured",
        args.file,
        program.version,
        c.num_qubits(),
        c.gates().len(),
        program.num_clbits,
        program.measured.len()
    );
    for name in args.params.keys() {
        if !program.theta_names.contains(name) {
            return Err(usage(&format!(
                "--param {name}: the file has no input of that name (it has: {})",
                program.theta_names.join(", ")
            )));
        }
    }
    let theta: Vec<f64> = program
        .theta_names
        .iter()
        .map(|n| args.params.get(n).copied().unwrap_or(0.0))
        .collect();
    for (n, v) in program.theta_names.iter().zip(&theta) {
        println!("  input {n} = {v}");
    }
    let state = backend.run(c, &Bindings::theta(&theta))?;
    for text in &args.observables {
        let o = Observable::parse(text)?;
        println!("<{text}> = {:.12}", state.expectation(&o)?);
    }
    if args.shots > 0 {
        let samples = state.sample(args.shots, args.seed)?;
        // (qubit, bit) pairs; without measurements every qubit into the bit of its index.
        let (pairs, bits): (Vec<(usize, usize)>, usize) = if program.measured.is_empty() {
            (
                (0..c.num_qubits()).map(|q| (q, q)).collect(),
                c.num_qubits(),
            )
        } else {
            (program.measured.clone(), program.num_clbits)
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for s in samples {
            let mut word = vec!['0'; bits];
            for &(q, b) in &pairs {
                if (s >> q) & 1 == 1 {
                    word[bits - 1 - b] = '1';
                }
            }
            *counts.entry(word.into_iter().collect()).or_default() += 1;
        }
        let mut sorted: Vec<_> = counts.into_iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        println!("counts ({} shots, seed {}):", args.shots, args.seed);
        for (word, n) in sorted.iter().take(32) {
            println!("  {word}: {n}");
        }
        if sorted.len() > 32 {
            println!("  … {} more outcomes", sorted.len() - 32);
        }
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
