import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateActors1764000000000 implements MigrationInterface {
  name = 'CreateActors1764000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "actors" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "issuer_name" text NOT NULL,
        "subject" text NOT NULL,
        "email" text,
        "email_verified" boolean,
        "name" text,
        "given_name" text,
        "family_name" text,
        "preferred_username" text,
        "roles" text array NOT NULL DEFAULT '{}',
        "status" text NOT NULL DEFAULT 'ACTIVE',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_seen_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "uq_actors_issuer_subject" UNIQUE ("issuer_name", "subject"),
        CONSTRAINT "ck_actors_status" CHECK ("status" IN ('ACTIVE', 'DISABLED')),
        CONSTRAINT "pk_actors" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "idx_actors_created_at_id" ON "actors" ("created_at", "id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_actors_created_at_id"`);
    await queryRunner.query(`DROP TABLE "actors"`);
  }
}
