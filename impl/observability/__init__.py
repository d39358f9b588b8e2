"""What an operator sees of the running API: log lines (`logs`) and Prometheus metrics (`metrics`)."""
