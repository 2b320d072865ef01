"""Legal persons (法人/单位): their identifiers, units and the roles granted within them."""
