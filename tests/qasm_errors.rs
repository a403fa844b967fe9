//! Malformed OpenQASM: every kind of mistake is an `Error::Qasm` at the right line and column,
//! and random truncations and mutations of the corpus never panic (proptest).

use proptest::prelude::*;
use qshade::qasm;
use qshade::Error;

const HEAD2: &str = "OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[2];\ncreg c[2];\n";
const HEAD3: &str = "OPENQASM 3.0;\ninclude \"stdgates.inc\";\nqubit[2] q;\nbit[2] c;\n";

/// The error of `source`, which must be an `Error::Qasm`: (line, column, message).
fn qasm_error(source: &str) -> (usize, usize, String) {
    match qasm::parse(source) {
        Err(Error::Qasm {
            line,
            column,
            message,
        }) => (line, column, message),
        Err(e) => panic!("expected Error::Qasm for {source:?}, got {e:?}"),
        Ok(_) => panic!("expected an error for {source:?}"),
    }
}

/// `body` after `head` must fail at (line of the body's first line + `line` − 1, `column`)
/// with a message containing `words`.
fn check(head: &str, body: &str, line: usize, column: usize, words: &str) {
    let source = format!("{head}{body}");
    let (l, c, m) = qasm_error(&source);
    let head_lines = head.lines().count();
    assert_eq!(
        (l, c),
        (head_lines + line, column),
        "position for {body:?}: {m}"
    );
    assert!(
        m.contains(words),
        "message for {body:?} lacks {words:?}: {m}"
    );
}

#[test]
fn each_kind_of_mistake_names_its_position() {
    for head in [HEAD2, HEAD3] {
        // Unknown gate.
        check(head, "h q[0];\nfoo q[0];\n", 2, 1, "unknown gate `foo`");
        // Wrong arity: qubits, then parameters.
        check(
            head,
            "cx q[0];\n",
            1,
            1,
            "takes 0 parameter(s) and 2 qubit(s)",
        );
        check(
            head,
            "h q[0];\n  rx q[1];\n",
            2,
            3,
            "takes 1 parameter(s) and 1 qubit(s)",
        );
        // Undefined register, index out of range.
        check(head, "h r[0];\n", 1, 3, "undefined qubit register `r`");
        check(head, "h q[2];\n", 1, 3, "out of range");
        // Bad expressions.
        check(head, "rx(1 +) q[0];\n", 1, 7, "expected an expression");
        check(head, "rx(foo) q[0];\n", 1, 4, "undefined name `foo`");
        check(head, "rx(1/0) q[0];\n", 1, 5, "division by zero");
        check(head, "rx(bar(1)) q[0];\n", 1, 4, "unknown function `bar`");
        // Truncated file.
        check(head, "cx q[0], q[", 1, 12, "end of the file");
        // Unsupported statements.
        check(head, "reset q[0];\n", 1, 1, "unsupported: reset");
        check(
            head,
            "include \"other.inc\";\n",
            1,
            1,
            "only \"qelib1.inc\"",
        );
    }
    // Mid-circuit measurement, OpenQASM 2 and 3 spellings.
    check(
        HEAD2,
        "measure q[0] -> c[0];\nh q[0];\n",
        2,
        1,
        "mid-circuit",
    );
    check(
        HEAD3,
        "c[0] = measure q[0];\nh q[0];\n",
        2,
        1,
        "mid-circuit",
    );
    // A gate body that uses an undeclared qubit.
    check(HEAD2, "gate g a { h b; }\n", 1, 14, "undefined qubit `b`");
    // Physical qubits mixed with registers.
    check(HEAD3, "h $0;\n", 1, 3, "cannot be mixed");
    check(
        "OPENQASM 3.0;\ninclude \"stdgates.inc\";\n",
        "h $1;\nqubit[2] q;\n",
        2,
        1,
        "physical",
    );
    // Classical control.
    check(
        HEAD3,
        "if (c[0]) x q[0];\n",
        1,
        1,
        "unsupported: classical control",
    );
    // Unterminated comment, unexpected character.
    check(
        HEAD2,
        "/* no end\nh q[0];\n",
        1,
        1,
        "unterminated /* comment",
    );
    check(HEAD2, "h q[0]; #\n", 1, 9, "unexpected character");
}

#[test]
fn wrong_header_and_empty_programs_are_errors() {
    assert_eq!(qasm_error("OPENQASM 4.0;\n").0, 1);
    let (l, _, m) = qasm_error("OPENQASM 2.0;\ninclude \"qelib1.inc\";\n");
    assert!(m.contains("declares no qubits"), "{m}");
    assert_eq!(l, 3);
    assert!(matches!(
        qasm::parse_qasm2("OPENQASM 3.0;\nqubit q;\n"),
        Err(Error::Qasm { line: 1, .. })
    ));
    // OpenQASM 2 needs qelib1.inc for h.
    let (_, _, m) = qasm_error("OPENQASM 2.0;\nqreg q[1];\nh q[0];\n");
    assert!(m.contains("include \"qelib1.inc\""), "{m}");
    // Hostile sizes and nesting are errors, not allocations or stack overflows.
    let (_, _, m) = qasm_error("OPENQASM 2.0;\nqreg q[99999999999999];\n");
    assert!(m.contains("more than 34 qubits"), "{m}");
    let deep = format!(
        "{HEAD2}rx({}1{}) q[0];\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let (_, _, m) = qasm_error(&deep);
    assert!(m.contains("nested deeper"), "{m}");
    // Definitions that call each other without end.
    let (_, _, m) = qasm_error(&format!(
        "{HEAD2}gate a p {{ b p; b p; }}\ngate b p {{ a p; a p; }}\na q[0];\n"
    ));
    assert!(m.contains("nested more than"), "{m}");
}

fn corpus() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qasm");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "qasm"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// An `Ok`, or an `Error::Qasm` whose position lies inside `source` (or just past its end).
fn well_behaved(source: &str) -> Result<(), TestCaseError> {
    match qasm::parse(source) {
        Ok(_) => Ok(()),
        Err(Error::Qasm { line, column, .. }) => {
            let lines = source.split('\n').count();
            prop_assert!(line >= 1 && line <= lines, "line {line} of {lines}");
            let width = source
                .split('\n')
                .nth(line - 1)
                .map_or(0, |l| l.chars().count());
            prop_assert!(
                column >= 1 && column <= width + 1,
                "column {column} of {width}"
            );
            Ok(())
        }
        Err(e) => Err(TestCaseError::fail(format!("not Error::Qasm: {e:?}"))),
    }
}

/// Characters the mutations insert: punctuation, digits, letters and a multibyte one.
const NOISE: &[char] = &[
    ';', ',', '(', ')', '[', ']', '{', '}', '-', '>', '=', '@', '*', '/', '^', '0', '9', '.', 'e',
    'q', 'x', ' ', '\n', '"', 'θ', '$',
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn truncated_corpus_files_never_panic(file in 0usize..64, cut in 0.0f64..1.0) {
        let files = corpus();
        let source = &files[file % files.len()];
        let chars: Vec<char> = source.chars().collect();
        let cut = (cut * chars.len() as f64) as usize;
        let truncated: String = chars[..cut.min(chars.len())].iter().collect();
        well_behaved(&truncated)?;
    }

    #[test]
    fn mutated_corpus_files_never_panic(
        file in 0usize..64,
        edits in prop::collection::vec((0.0f64..1.0, 0usize..3, 0usize..64, 0usize..8), 1..6),
    ) {
        let files = corpus();
        let mut chars: Vec<char> = files[file % files.len()].chars().collect();
        for (at, op, noise, len) in edits {
            let at = ((at * chars.len() as f64) as usize).min(chars.len());
            match op {
                // Insert a character.
                0 => chars.insert(at, NOISE[noise % NOISE.len()]),
                // Delete a span.
                1 => {
                    let end = (at + len).min(chars.len());
                    chars.drain(at..end);
                }
                // Replace a character.
                _ => {
                    if at < chars.len() {
                        chars[at] = NOISE[noise % NOISE.len()];
                    }
                }
            }
        }
        let source: String = chars.into_iter().collect();
        well_behaved(&source)?;
    }
}
