import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Mutation, Query, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { SigningKey, toSigningKeyModel } from 'src/signing-keys/models/signing-key.model';
import { SigningKeysService } from 'src/signing-keys/signing-keys.service';

/** Signing key administration. Every operation here needs the ADMIN role. */
@Resolver(() => SigningKey)
@RequireRoles(ADMIN_ROLE)
export class SigningKeysResolver {
  constructor(private readonly service: SigningKeysService) {}

  @Query(() => [SigningKey], {
    description: 'Every signing key: NEXT, ACTIVE, then retired keys newest first (ADMIN)',
  })
  async signingKeys(): Promise<SigningKey[]> {
    return (await this.service.list()).map(toSigningKeyModel);
  }

  @Mutation(() => SigningKey, {
    description:
      'Rotate now: the NEXT key signs from now on (at once, even if published for less than the JWKS max-age: the emergency lever, logged as a warning), a new NEXT key is published, and the old key keeps verifying until its tokens have expired (ADMIN)',
  })
  async rotateSigningKey(@AuditFrom() from: AuditRequest): Promise<SigningKey> {
    return toSigningKeyModel(await this.service.rotate(from));
  }
}
