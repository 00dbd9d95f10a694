"""The backprop walk: the textbook derivation course notes pass around, redone with the user's numbers, as a Document.

Every number comes from the core's Derivation (conv2d, conv2d_backward, the Jacobian helpers, the
correlations, central differences); symbols (X00, K10, dL/dO01) come from the same Jacobian helpers
applied to index matrices, so symbols and numbers follow one index rule. One module per section.
"""

from __future__ import annotations

from convcli.core.derivation import Derivation
from convcli.explain.backprop.channels import multi_channel
from convcli.explain.backprop.checks import checks
from convcli.explain.backprop.forward import forward, is_one_d, one_d, summary, summary_config
from convcli.explain.backprop.gradients import bias_section, fd_section, input_section, kernel_section
from convcli.explain.backprop.jacobians import vec_section
from convcli.explain.backprop.symbols import Walk
from convcli.explain.document import Document


def build_walk(d: Derivation, verbose: bool, symbolic: bool = False, loss_given: bool = False) -> Document:
    """The walk for ``d``: the short summary, or with ``verbose`` (or ``symbolic``) every section."""
    return build(Walk(d, symbolic=symbolic, loss_given=loss_given), verbose or symbolic)


def build(walk: Walk, verbose: bool) -> Document:
    doc = Document("Backpropagation through a convolution")
    doc.add(*summary_config(walk, verbose))
    if not walk.d.single_channel:
        multi_channel(walk, doc, verbose)
    elif verbose:
        forward(walk, doc)
        if is_one_d(walk):
            one_d(walk, doc)
        vec_section(walk, doc)
        kernel_section(walk, doc)
        input_section(walk, doc)
        bias_section(walk, doc)
        fd_section(walk, doc)
    else:
        summary(walk, doc)
    checks(walk, doc)
    return doc
