"""GBNF grammars that shape root replies on backends that can constrain output (llama.cpp).

A turn is either *one short line of reasoning + exactly one* ```repl block, or *one
short line of reasoning + a final answer* (``FINAL("...")`` / ``FINAL_VAR(name)``), the
block or the final starting on its own line. The code inside the block
may contain any character sequence except the closing fence, so real Python
(strings, backticks, braces) always fits. The reasoning is bounded so a small model
cannot ramble through its token budget before it writes code.

Real BPE vocabularies carry whitespace glued to punctuation: Qwen's tokenizer has one
token for a fence plus newline and one for a blank line. A grammar that ends exactly at
the closing fence refuses those tokens and pushes the model into other text that never
ends the turn, so every place a model naturally writes a newline accepts one or two,
the fence may open as ```repl or ```python, and a closed turn may carry a little
trailing whitespace before the end of generation.
"""

from __future__ import annotations

DEFAULT_REASONING_CHARS = 400

_COMMON = r"""
reasoning ::= rchar{0,%(n)d}
rchar ::= [^`\x00\n]
code ::= cchar*
cchar ::= [^`] | "`" [^`] | "``" [^`]
final ::= "FINAL(" fstring ")" | "FINAL_VAR(" fvar ")"
fstring ::= "\"" schar* "\""
schar ::= [^"\\] | "\\" [^\x00]
fvar ::= "\""? [A-Za-z_] [A-Za-z0-9_]{0,63} "\""?
"""


def turn_grammar(reasoning_chars: int = DEFAULT_REASONING_CHARS) -> str:
    """The grammar of one root turn: reasoning, then one ```repl block or a FINAL."""
    n = max(0, int(reasoning_chars))
    return (
        "root ::= (reasoning nl)? (block | final) tail\n"
        'block ::= "```" ("repl" | "python") nl code "\\n```"\n'
        'nl ::= "\\n" "\\n"?\n'
        'tail ::= [ \\t]{0,4} "\\n"{0,2}\n' + _COMMON % {"n": n}
    ).strip() + "\n"


def final_grammar() -> str:
    """The grammar of the forced last step: only ``FINAL("answer text")``, no code."""
    return (
        'root ::= "FINAL(" fstring ")" [ \\t]{0,4} "\\n"{0,2}\n'
        'fstring ::= "\\"" schar* "\\""\n'
        'schar ::= [^"\\\\] | "\\\\" [^\\x00]\n'
    )
