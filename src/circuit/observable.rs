//! Observables: Pauli strings with real coefficients, and sums of them (Hamiltonians).

use crate::error::{Error, Result};

/// A single-qubit Pauli operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pauli {
    /// Pauli X.
    X,
    /// Pauli Y.
    Y,
    /// Pauli Z.
    Z,
}

/// `coeff · P_{q1} ⊗ P_{q2} ⊗ …`, identity on every qubit not listed.
///
/// The fields are public; a term edited through them is checked wherever it enters a
/// computation ([`Observable::validate`]): a finite coefficient and distinct, in-range qubits.
#[derive(Clone, Debug, PartialEq)]
pub struct PauliTerm {
    /// Real coefficient.
    pub coeff: f64,
    /// (qubit, Pauli) pairs, each qubit at most once; [`PauliTerm::new`] sorts them by qubit.
    pub ops: Vec<(usize, Pauli)>,
}

impl PauliTerm {
    /// A term from (qubit, Pauli) pairs, sorted by qubit; errors if a qubit repeats or the
    /// coefficient is NaN or infinite.
    pub fn new(coeff: f64, ops: &[(usize, Pauli)]) -> Result<Self> {
        let mut ops = ops.to_vec();
        ops.sort_by_key(|&(q, _)| q);
        let term = PauliTerm { coeff, ops };
        term.check()?;
        Ok(term)
    }

    /// Checks a finite coefficient and distinct qubits (in any order).
    fn check(&self) -> Result<()> {
        if !self.coeff.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "coefficient {} of Pauli term \"{}\" is not finite; coefficients must be finite",
                self.coeff,
                self.factors()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        match self.ops.iter().find(|&&(q, _)| !seen.insert(q)) {
            Some(&(qubit, _)) => Err(Error::RepeatedQubit {
                qubit,
                gate: format!("Pauli term \"{}\"", self.factors()),
            }),
            None => Ok(()),
        }
    }

    /// The factors as text, e.g. `Z0 X3` (`I` for none).
    fn factors(&self) -> String {
        if self.ops.is_empty() {
            return "I".into();
        }
        self.ops
            .iter()
            .map(|(q, p)| format!("{p:?}{q}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Bit mask of qubits with X or Y (the qubits the term flips).
    pub fn x_mask(&self) -> u64 {
        self.mask(|p| matches!(p, Pauli::X | Pauli::Y))
    }

    /// Bit mask of qubits with Z or Y (the qubits that give a sign).
    pub fn z_mask(&self) -> u64 {
        self.mask(|p| matches!(p, Pauli::Z | Pauli::Y))
    }

    /// Bit mask of the qubits whose Pauli satisfies `keep` (qubits ≥ 64, which no valid term
    /// has, are left out).
    fn mask(&self, keep: impl Fn(Pauli) -> bool) -> u64 {
        self.ops
            .iter()
            .filter(|&&(_, p)| keep(p))
            .fold(0, |m, &(q, _)| m | super::bit(q))
    }

    /// Number of Y factors (each contributes a factor i).
    pub fn num_y(&self) -> usize {
        self.ops.iter().filter(|(_, p)| *p == Pauli::Y).count()
    }

    /// The largest qubit index used, if any (the ops need not be sorted).
    pub fn max_qubit(&self) -> Option<usize> {
        self.ops.iter().map(|&(q, _)| q).max()
    }
}

/// A Hermitian observable: a real-weighted sum of Pauli strings. A constant term is a
/// `PauliTerm` with no ops.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Observable {
    /// The terms of the sum.
    pub terms: Vec<PauliTerm>,
}

impl Observable {
    /// Z on one qubit.
    pub fn z(qubit: usize) -> Self {
        Self::single(qubit, Pauli::Z)
    }

    /// X on one qubit.
    pub fn x(qubit: usize) -> Self {
        Self::single(qubit, Pauli::X)
    }

    /// Y on one qubit.
    pub fn y(qubit: usize) -> Self {
        Self::single(qubit, Pauli::Y)
    }

    fn single(qubit: usize, p: Pauli) -> Self {
        Observable {
            terms: vec![PauliTerm {
                coeff: 1.0,
                ops: vec![(qubit, p)],
            }],
        }
    }

    /// The identity times `c` (an energy offset).
    pub fn constant(c: f64) -> Self {
        Observable {
            terms: vec![PauliTerm {
                coeff: c,
                ops: Vec::new(),
            }],
        }
    }

    /// Parses a sum like `"0.5 Z0 Z1 - 0.25 X0 + 1.0"`, `"-Z0 + 1e-3 X1"`, or a single string
    /// like `"Z0 Z1"`. Each term is an optional sign and coefficient followed by factors
    /// `X<q>`, `Y<q>`, `Z<q>`; a term with no factors is a constant.
    pub fn parse(text: &str) -> Result<Self> {
        let mut terms = Vec::new();
        for raw in split_terms(text) {
            let (sign, body) = match raw.trim_start().strip_prefix('-') {
                Some(rest) => (-1.0, rest),
                None => (
                    1.0,
                    raw.trim_start()
                        .strip_prefix('+')
                        .unwrap_or(raw.trim_start()),
                ),
            };
            let mut coeff = sign;
            let mut ops = Vec::new();
            for tok in body.split_whitespace() {
                let pauli = match tok.chars().next() {
                    Some('X' | 'x') => Some(Pauli::X),
                    Some('Y' | 'y') => Some(Pauli::Y),
                    Some('Z' | 'z') => Some(Pauli::Z),
                    _ => None,
                };
                match pauli {
                    Some(p) => {
                        let q: usize = tok.get(1..).unwrap_or("").parse().map_err(|_| {
                            Error::InvalidArgument(format!(
                                "cannot read qubit index in Pauli factor '{tok}' of '{text}'"
                            ))
                        })?;
                        ops.push((q, p));
                    }
                    None => {
                        let v: f64 = tok.parse().map_err(|_| {
                            Error::InvalidArgument(format!(
                                "cannot read '{tok}' in observable '{text}'"
                            ))
                        })?;
                        if !v.is_finite() {
                            return Err(Error::InvalidArgument(format!(
                                "coefficient '{tok}' in observable '{text}' is not finite"
                            )));
                        }
                        coeff *= v;
                    }
                }
            }
            if !coeff.is_finite() {
                return Err(Error::InvalidArgument(format!(
                    "the coefficients of term '{}' in observable '{text}' multiply to {coeff}; \
                     coefficients must be finite",
                    raw.trim()
                )));
            }
            if ops.is_empty() && body.split_whitespace().next().is_none() {
                return Err(Error::InvalidArgument(format!(
                    "observable '{text}' has a sign with no term after it"
                )));
            }
            terms.push(PauliTerm::new(coeff, &ops)?);
        }
        if terms.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "observable '{text}' has no terms"
            )));
        }
        Ok(Observable { terms })
    }

    /// Adds `coeff · ops` to the sum; errors (and adds nothing) if a qubit repeats or `coeff`
    /// is not finite.
    pub fn add_term(&mut self, coeff: f64, ops: &[(usize, Pauli)]) -> Result<&mut Self> {
        self.terms.push(PauliTerm::new(coeff, ops)?);
        Ok(self)
    }

    /// Checks the observable for a state of `num_qubits` qubits: every coefficient finite (and
    /// their absolute sum too, so that no sum of terms overflows) and every term's qubits
    /// distinct and below `num_qubits` (the ops of a term edited through
    /// the public fields may be in any order). Every backend runs it before using an
    /// observable.
    pub fn validate(&self, num_qubits: usize) -> Result<()> {
        for t in &self.terms {
            if let Some(q) = t.max_qubit() {
                if q >= num_qubits {
                    return Err(Error::QubitOutOfRange {
                        qubit: q,
                        num_qubits,
                    });
                }
            }
            t.check()?;
        }
        // |⟨O⟩| ≤ Σ|c|: a bounded sum cannot overflow however the backend adds the terms.
        let l1: f64 = self.terms.iter().map(|t| t.coeff.abs()).sum();
        if !l1.is_finite() || l1 > f64::MAX / 4.0 {
            return Err(Error::InvalidArgument(format!(
                "the coefficients' absolute values sum to {l1:e}, so the expectation value can \
                 overflow; rescale the observable"
            )));
        }
        Ok(())
    }
}

/// Splits a sum into its terms at every `+`/`-` that is not the sign of a number's exponent
/// (`1e-3`); each piece keeps its leading sign.
fn split_terms(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if (c == b'+' || c == b'-') && i > 0 {
            let exponent = matches!(bytes[i - 1], b'e' | b'E')
                && i >= 2
                && (bytes[i - 2].is_ascii_digit() || bytes[i - 2] == b'.');
            if !exponent {
                pieces.push(&text[start..i]);
                start = i;
            }
        }
    }
    pieces.push(&text[start..]);
    pieces
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .collect()
}
