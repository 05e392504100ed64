"""Instruments: what a tool *is* (its items, scales, labels and names), never computation.

Both the data-in layer (column recognition, validation) and :mod:`evalkit.indices` (scoring)
use these definitions, so that each fact about an instrument is written once.
"""
