import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 7591 dynamic registration (issue 11 §1): who registered a client, an admin or the client itself
 * (`dynamic`: public, loopback or https redirects only, asks for consent, expires when unused).
 */
export class AddClientRegistration1796212000000 implements MigrationInterface {
  name = 'AddClientRegistration1796212000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "oauth_clients" ADD "registration" text NOT NULL DEFAULT 'admin', ADD CONSTRAINT "ck_oauth_clients_registration" CHECK ("registration" IN ('admin', 'dynamic'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "oauth_clients" WHERE "registration" = 'dynamic'`);
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" DROP CONSTRAINT "ck_oauth_clients_registration", DROP COLUMN "registration"',
    );
  }
}
