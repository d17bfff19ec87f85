package postgres

// SchemaV1 is the DDL of schema version 1, for the migration test.
const SchemaV1 = schemaV1
