import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import type { IssuerDraft } from 'src/config/issuer-rules';
import {
  CreateTrustedIssuerInput,
  TrustedIssuerNameArgs,
  UpdateTrustedIssuerArgs,
  type UpdateTrustedIssuerInput,
} from 'src/issuers/dto/trusted-issuer.input';
import { type IssuerPatch, IssuersService } from 'src/issuers/issuers.service';
import {
  TrustedIssuer,
  TrustedIssuerProvisioningEnum,
  toTrustedIssuerModel,
} from 'src/issuers/models/trusted-issuer.model';

/** Trusted-issuer administration (issue 4 §4). Every operation here needs the ADMIN role. */
@Resolver(() => TrustedIssuer)
@RequireRoles(ADMIN_ROLE)
export class IssuersResolver {
  constructor(private readonly service: IssuersService) {}

  @Query(() => [TrustedIssuer], {
    description:
      'Every trusted issuer: configuration ones first (read-only), then runtime ones (ADMIN)',
  })
  trustedIssuers(): TrustedIssuer[] {
    return this.service.list().map(toTrustedIssuerModel);
  }

  @Mutation(() => TrustedIssuer, {
    description: 'Trust a new issuer on every node, without a restart (ADMIN)',
  })
  async createTrustedIssuer(
    @Args('input') input: CreateTrustedIssuerInput,
  ): Promise<TrustedIssuer> {
    return toTrustedIssuerModel(await this.service.create(toDraft(input)));
  }

  @Mutation(() => TrustedIssuer, {
    description: 'Change a runtime issuer; cached tokens are verified again (ADMIN)',
  })
  async updateTrustedIssuer(
    @Args() { name, input }: UpdateTrustedIssuerArgs,
  ): Promise<TrustedIssuer> {
    return toTrustedIssuerModel(await this.service.update(name, toPatch(input)));
  }

  @Mutation(() => Boolean, {
    description: 'Stop trusting a runtime issuer; its tokens are refused at once (ADMIN)',
  })
  deleteTrustedIssuer(@Args() { name }: TrustedIssuerNameArgs): Promise<boolean> {
    return this.service.delete(name);
  }
}

function provisioningOf(p: TrustedIssuerProvisioningEnum | null | undefined) {
  if (p === null || p === undefined) return p;
  return p === TrustedIssuerProvisioningEnum.EXISTING ? 'existing' : 'jit';
}

function toDraft(input: CreateTrustedIssuerInput): IssuerDraft {
  const { provisioning, ...rest } = input;
  const draft: Record<string, unknown> = { ...rest, provisioning: provisioningOf(provisioning) };
  // GraphQL null on create means "not given".
  for (const [k, v] of Object.entries(draft)) if (v === null || v === undefined) delete draft[k];
  return draft as unknown as IssuerDraft;
}

function toPatch(input: UpdateTrustedIssuerInput): IssuerPatch {
  const { provisioning, ...rest } = input;
  return {
    ...rest,
    ...(provisioning !== undefined ? { provisioning: provisioningOf(provisioning) } : {}),
  };
}
