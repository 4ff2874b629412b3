import { AuditFrom, type AuditRequest } from 'src/audit/audit-context';
import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import type { IssuerDraft } from 'src/config/issuer-rules';
import {
  CreateTrustedIssuerInput,
  TrustedIssuerNameArgs,
  UpdateTrustedIssuerArgs,
  type UpdateTrustedIssuerInput,
} from 'src/issuers/dto/trusted-issuer.input';
import { type IssuerPatch, IssuersService } from 'src/issuers/issuers.service';
import { KeySetStatusBoard } from 'src/issuers/key-set-status';
import {
  IssuerKeySet,
  TrustedIssuer,
  TrustedIssuerProvisioningEnum,
  toIssuerKeySetModel,
  toTrustedIssuerModel,
} from 'src/issuers/models/trusted-issuer.model';

/** Trusted-issuer administration (issue 4 §4). Every operation here needs the ADMIN role. */
@Resolver(() => TrustedIssuer)
@RequireRoles(ADMIN_ROLE)
export class IssuersResolver {
  constructor(
    private readonly service: IssuersService,
    private readonly keySets: KeySetStatusBoard,
  ) {}

  @Query(() => [TrustedIssuer], {
    description:
      'Every trusted issuer: configuration ones first (read-only), then runtime ones (ADMIN)',
  })
  trustedIssuers(): TrustedIssuer[] {
    return this.service.list().map(toTrustedIssuerModel);
  }

  @ResolveField('keySet', () => IssuerKeySet, {
    nullable: true,
    description:
      'The state of its key set on the node that answers; null for an issuer without a JWKS URL (validated at its userinfo endpoint)',
  })
  keySet(@Parent() issuer: TrustedIssuer): IssuerKeySet | null {
    return toIssuerKeySetModel(
      this.keySets.of({ name: issuer.name, jwksUrl: issuer.jwksUrl ?? undefined }),
    );
  }

  @Mutation(() => TrustedIssuer, {
    description:
      'Trust a new issuer on every node, without a restart; its JWKS and userinfo endpoint are checked first (ADMIN)',
  })
  async createTrustedIssuer(
    @Args('input') input: CreateTrustedIssuerInput,
    @AuditFrom() from: AuditRequest,
  ): Promise<TrustedIssuer> {
    const { skipReachabilityCheck, ...fields } = input;
    return toTrustedIssuerModel(
      await this.service.create(toDraft(fields), {
        checkReachability: !skipReachabilityCheck,
        from,
      }),
    );
  }

  @Mutation(() => TrustedIssuer, {
    description:
      'Change a runtime issuer; cached tokens are verified again; a changed JWKS URL, userinfo URL or algorithms are checked first (ADMIN)',
  })
  async updateTrustedIssuer(
    @Args() { name, input }: UpdateTrustedIssuerArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<TrustedIssuer> {
    const { skipReachabilityCheck, ...fields } = input;
    return toTrustedIssuerModel(
      await this.service.update(name, toPatch(fields), {
        checkReachability: !skipReachabilityCheck,
        from,
      }),
    );
  }

  @Mutation(() => Boolean, {
    description: 'Stop trusting a runtime issuer; its tokens are refused at once (ADMIN)',
  })
  deleteTrustedIssuer(
    @Args() { name }: TrustedIssuerNameArgs,
    @AuditFrom() from: AuditRequest,
  ): Promise<boolean> {
    return this.service.delete(name, from);
  }
}

function provisioningOf(p: TrustedIssuerProvisioningEnum | null | undefined) {
  if (p === null || p === undefined) return p;
  return p === TrustedIssuerProvisioningEnum.EXISTING ? 'existing' : 'jit';
}

function toDraft(input: Omit<CreateTrustedIssuerInput, 'skipReachabilityCheck'>): IssuerDraft {
  const { provisioning, ...rest } = input;
  const draft: Record<string, unknown> = { ...rest, provisioning: provisioningOf(provisioning) };
  // GraphQL null on create means "not given".
  for (const [k, v] of Object.entries(draft)) if (v === null || v === undefined) delete draft[k];
  return draft as unknown as IssuerDraft;
}

function toPatch(input: Omit<UpdateTrustedIssuerInput, 'skipReachabilityCheck'>): IssuerPatch {
  const { provisioning, ...rest } = input;
  return {
    ...rest,
    ...(provisioning !== undefined ? { provisioning: provisioningOf(provisioning) } : {}),
  };
}
