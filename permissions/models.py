# Unit grants are guardian's generic object permissions on `assignments.Unit` rows: viewflow's task
# queue reads those tables, so a grant routes a task to exactly the people of that unit.
