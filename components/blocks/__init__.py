"""Building blocks shared by more than one pattern (IAM documents, log groups, load balancers, launch templates
and AMI ids, container settings, instance architecture, schedule expressions, tag keys); no pattern imports
another pattern, only these."""
