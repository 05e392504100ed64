"""Designs: pure statistical analyses of evaluation designs (DataFrame in, result out)."""
