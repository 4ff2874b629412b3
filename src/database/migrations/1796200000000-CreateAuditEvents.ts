import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log (issue 13 §4). */
export class CreateAuditEvents1796200000000 implements MigrationInterface {
  name = 'CreateAuditEvents1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "audit_events" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "action" text NOT NULL, "outcome" text NOT NULL, "actor_id" uuid, "client_id" text, "act" jsonb, "target_type" text, "target_id" text, "project_id" uuid, "client_address" text, "request_id" text, "details" jsonb, CONSTRAINT "pk_audit_events" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_created" ON "audit_events" ("created_at", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_actor" ON "audit_events" ("actor_id", "created_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_target" ON "audit_events" ("target_id", "created_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_project" ON "audit_events" ("project_id", "created_at") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_audit_events_action" ON "audit_events" ("action", "created_at") ',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "audit_events"');
  }
}
