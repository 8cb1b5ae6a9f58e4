"""Episodes, placements and homes change only through services: no admin pages for them."""
