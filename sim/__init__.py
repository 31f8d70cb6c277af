"""fulfilsim: Monte Carlo simulation of Amazon fulfilment strategies."""

__version__ = "0.1.0"
