"""The IdP's load benchmark (``make bench``) and its helpers; a tool, not part of the product."""
