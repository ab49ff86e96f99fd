"""Building blocks shared by more than one pattern (IAM documents, log groups, load balancers, launch templates)."""
