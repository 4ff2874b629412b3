import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 8707 resource indicators (issue 11 §1): the resource a grant's tokens are for (`api` or `mcp`),
 * kept by every refresh, and the one an authorization code was asked for. Existing rows are the API's.
 */
export class AddResourceIndicators1796210000000 implements MigrationInterface {
  name = 'AddResourceIndicators1796210000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['oauth_grants', 'oauth_authorization_codes']) {
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD "resource" text NOT NULL DEFAULT 'api', ADD CONSTRAINT "ck_${table}_resource" CHECK ("resource" IN ('api', 'mcp'))`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['oauth_authorization_codes', 'oauth_grants']) {
      await queryRunner.query(
        `ALTER TABLE "${table}" DROP CONSTRAINT "ck_${table}_resource", DROP COLUMN "resource"`,
      );
    }
  }
}
