import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * private_key_jwt client authentication: the registered method (existing clients keep a secret) and the
 * public keys of a private_key_jwt client.
 */
export class AddClientPrivateKeyJwt1796155761441 implements MigrationInterface {
  name = 'AddClientPrivateKeyJwt1796155761441';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" ADD "token_endpoint_auth_method" text NOT NULL DEFAULT \'client_secret_basic\'',
    );
    await queryRunner.query('ALTER TABLE "oauth_clients" ADD "jwks" jsonb');
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" ADD CONSTRAINT "ck_oauth_clients_token_endpoint_auth_method" CHECK ("token_endpoint_auth_method" IN (\'client_secret_basic\', \'client_secret_post\', \'private_key_jwt\'))',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE "oauth_clients" DROP CONSTRAINT "ck_oauth_clients_token_endpoint_auth_method"',
    );
    await queryRunner.query('ALTER TABLE "oauth_clients" DROP COLUMN "jwks"');
    await queryRunner.query('ALTER TABLE "oauth_clients" DROP COLUMN "token_endpoint_auth_method"');
  }
}
