import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateProjectsAndMemberships1795541668147 implements MigrationInterface {
  name = 'CreateProjectsAndMemberships1795541668147';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "projects" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "pk_projects" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE TABLE "profiles" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "resource_type" text NOT NULL, "given_name" text NOT NULL, "family_name" text NOT NULL, "email" text, "identifiers" jsonb NOT NULL DEFAULT \'[]\', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "ck_profiles_resource_type" CHECK ("resource_type" IN (\'Practitioner\', \'Patient\', \'RelatedPerson\')), CONSTRAINT "pk_profiles" PRIMARY KEY ("id"))',
    );
    await queryRunner.query('CREATE INDEX "idx_profiles_project" ON "profiles" ("project_id") ');
    await queryRunner.query(
      'CREATE INDEX "idx_profiles_identifiers" ON "profiles" USING gin ("identifiers" jsonb_path_ops)',
    );
    await queryRunner.query(
      'CREATE TABLE "project_memberships" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "project_id" uuid NOT NULL, "profile_id" uuid NOT NULL, "actor_id" uuid, "issuer_name" text, "external_id" text, "email" text, "admin" boolean NOT NULL DEFAULT false, "active" boolean NOT NULL DEFAULT true, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "uq_memberships_profile" UNIQUE ("profile_id"), CONSTRAINT "uq_memberships_project_email" UNIQUE ("project_id", "email"), CONSTRAINT "uq_memberships_project_issuer_external" UNIQUE ("project_id", "issuer_name", "external_id"), CONSTRAINT "ck_memberships_identity" CHECK ("external_id" IS NOT NULL OR "email" IS NOT NULL), CONSTRAINT "ck_memberships_external_issuer" CHECK ("external_id" IS NULL OR "issuer_name" IS NOT NULL), CONSTRAINT "pk_project_memberships" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_memberships_actor" ON "project_memberships" ("actor_id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_memberships_issuer_external" ON "project_memberships" ("issuer_name", "external_id") ',
    );
    await queryRunner.query(
      'ALTER TABLE "profiles" ADD CONSTRAINT "fk_profiles_project" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "project_memberships" ADD CONSTRAINT "fk_memberships_project" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "project_memberships" ADD CONSTRAINT "fk_memberships_profile" FOREIGN KEY ("profile_id") REFERENCES "profiles"("id") ON DELETE CASCADE ON UPDATE NO ACTION',
    );
    await queryRunner.query(
      'ALTER TABLE "project_memberships" ADD CONSTRAINT "fk_memberships_actor" FOREIGN KEY ("actor_id") REFERENCES "actors"("id") ON DELETE SET NULL ON UPDATE NO ACTION',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "project_memberships" DROP CONSTRAINT "fk_memberships_actor"',
    );
    await queryRunner.query(
      'ALTER TABLE "project_memberships" DROP CONSTRAINT "fk_memberships_profile"',
    );
    await queryRunner.query(
      'ALTER TABLE "project_memberships" DROP CONSTRAINT "fk_memberships_project"',
    );
    await queryRunner.query('ALTER TABLE "profiles" DROP CONSTRAINT "fk_profiles_project"');
    await queryRunner.query('DROP INDEX "public"."idx_memberships_issuer_external"');
    await queryRunner.query('DROP INDEX "public"."idx_memberships_actor"');
    await queryRunner.query('DROP TABLE "project_memberships"');
    await queryRunner.query('DROP INDEX "public"."idx_profiles_identifiers"');
    await queryRunner.query('DROP INDEX "public"."idx_profiles_project"');
    await queryRunner.query('DROP TABLE "profiles"');
    await queryRunner.query('DROP TABLE "projects"');
  }
}
