import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin console (issue 10): per-minute activity counts for its overview (token validations and
 * sign-ins, cluster-wide), and the browser each session signed in with (My account's session list).
 */
export class AddConsoleActivityAndSessionAgents1796183100000 implements MigrationInterface {
  name = 'AddConsoleActivityAndSessionAgents1796183100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "console_activity" ("minute" TIMESTAMP WITH TIME ZONE NOT NULL, "kind" text NOT NULL, "issuer" text NOT NULL, "outcome" text NOT NULL, "reason" text NOT NULL, "count" integer NOT NULL, CONSTRAINT "pk_console_activity" PRIMARY KEY ("minute", "kind", "issuer", "outcome", "reason"))',
    );
    await queryRunner.query(
      'CREATE INDEX "idx_console_activity_minute" ON "console_activity" ("minute") ',
    );
    await queryRunner.query('ALTER TABLE "browser_sessions" ADD "user_agent" text');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "browser_sessions" DROP COLUMN "user_agent"');
    await queryRunner.query('DROP INDEX "public"."idx_console_activity_minute"');
    await queryRunner.query('DROP TABLE "console_activity"');
  }
}
