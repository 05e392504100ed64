"""Indices: pure, vectorised scoring of assessment tools (DataFrame in, result out)."""
