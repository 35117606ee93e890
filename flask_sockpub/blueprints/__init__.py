"""The REST side: CRUD blueprints, their column policy, list criteria and value coercion."""
