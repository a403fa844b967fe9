//! Tokens of OpenQASM 2 and 3 source, each with its 1-based line and column.

use super::Pos;
use crate::error::Result;

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A name: letters (any Unicode letter, so `θ` works), digits, `_`; or `$k` (a physical
    /// qubit in OpenQASM 3).
    Ident(String),
    /// A number. `int` is set when it was written as a plain decimal integer.
    Num { value: f64, int: Option<u64> },
    /// A string in double or single quotes (include file names).
    Str(String),
    /// Punctuation or an operator: `; , ( ) [ ] { } -> + - * / ^ ** = @ : ==` …
    Punct(&'static str),
    /// The end of the source.
    Eof,
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

/// Operators, longest first so that `->` wins over `-`.
const PUNCT: [&str; 27] = [
    "->", "**", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "++", ";", ",", "(", ")", "[", "]",
    "{", "}", "+", "-", "*", "/", "^", "=", "@", ":",
];
/// Single characters that are tokens of OpenQASM 3 we do not support but must not call unknown.
const OTHER: [&str; 6] = ["<", ">", "!", "~", "%", "&"];

/// Splits `src` into tokens, ending with [`Tok::Eof`]. Comments (`//`, `/* */`) and white space
/// are skipped.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    // Advances over `n` characters, keeping line and column.
    let advance = |i: &mut usize, line: &mut usize, col: &mut usize, n: usize| {
        for _ in 0..n {
            if chars.get(*i) == Some(&'\n') {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, 1);
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, 1);
            }
        } else if c == '/' && next == Some('*') {
            advance(&mut i, &mut line, &mut col, 2);
            loop {
                if i >= chars.len() {
                    return Err(pos.error("unterminated /* comment: add the closing */"));
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    advance(&mut i, &mut line, &mut col, 2);
                    break;
                }
                advance(&mut i, &mut line, &mut col, 1);
            }
        } else if c == '"' || c == '\'' {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars[end] != c && chars[end] != '\n' {
                end += 1;
            }
            if chars.get(end) != Some(&c) {
                return Err(pos.error("unterminated string: add the closing quote"));
            }
            let s: String = chars[start..end].iter().collect();
            let n = end + 1 - i;
            advance(&mut i, &mut line, &mut col, n);
            out.push(Token {
                tok: Tok::Str(s),
                pos,
            });
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|d| d.is_ascii_digit())) {
            let (tok, len) = number(&chars[i..], pos)?;
            advance(&mut i, &mut line, &mut col, len);
            out.push(Token { tok, pos });
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let mut end = i + 1;
            while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
                end += 1;
            }
            let s: String = chars[i..end].iter().collect();
            let n = end - i;
            advance(&mut i, &mut line, &mut col, n);
            out.push(Token {
                tok: Tok::Ident(s),
                pos,
            });
        } else if let Some(p) = PUNCT
            .iter()
            .chain(OTHER.iter())
            .find(|p| p.chars().zip(&chars[i..]).filter(|(a, b)| a == *b).count() == p.len())
        {
            advance(&mut i, &mut line, &mut col, p.len());
            out.push(Token {
                tok: Tok::Punct(p),
                pos,
            });
        } else {
            return Err(pos.error(&format!("unexpected character {c:?}")));
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos { line, column: col },
    });
    Ok(out)
}

/// Reads a number at the start of `s`: `12`, `1.5`, `.5`, `2.`, `1e-3`, `1.5E+3`; underscores
/// between digits are allowed (OpenQASM 3). Returns the token and its length in characters.
fn number(s: &[char], pos: Pos) -> Result<(Tok, usize)> {
    let mut n = 0;
    let mut text = String::new();
    let mut is_int = true;
    let digits = |n: &mut usize, text: &mut String| {
        while *n < s.len() && (s[*n].is_ascii_digit() || s[*n] == '_') {
            if s[*n] != '_' {
                text.push(s[*n]);
            }
            *n += 1;
        }
    };
    digits(&mut n, &mut text);
    if s.get(n) == Some(&'.') {
        is_int = false;
        text.push('.');
        n += 1;
        digits(&mut n, &mut text);
    }
    if matches!(s.get(n), Some('e' | 'E')) {
        let sign = matches!(s.get(n + 1), Some('+' | '-'));
        let first = s.get(n + 1 + usize::from(sign));
        if first.is_some_and(|d| d.is_ascii_digit()) {
            is_int = false;
            text.push('e');
            if sign {
                text.push(s[n + 1]);
            }
            n += 1 + usize::from(sign);
            digits(&mut n, &mut text);
        }
    }
    if s.get(n).is_some_and(|c| c.is_alphabetic() || *c == '_') {
        return Err(pos.error(&format!(
            "malformed number: {:?} is followed by a letter (units such as `dt` or `ns` and \
             imaginary literals are not supported)",
            s[..n].iter().collect::<String>()
        )));
    }
    let value: f64 = text
        .parse()
        .map_err(|_| pos.error(&format!("malformed number {text:?}")))?;
    if !value.is_finite() {
        return Err(pos.error(&format!("number {text} is too large")));
    }
    let int = if is_int {
        text.parse::<u64>().ok()
    } else {
        None
    };
    Ok((Tok::Num { value, int }, n))
}
