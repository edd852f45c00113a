"""demo-exchange: the paper-trading engine (issue #3). Empty until then."""
